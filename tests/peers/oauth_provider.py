"""A real OAuth 2.0 provider (npm ``oidc-provider``, run by ``oauth_provider.mjs``) for tests.

:func:`start_provider` runs it on an ephemeral port of 127.0.0.1; its test hooks count the
token requests it answered. :meth:`OAuthProvider.consent` plays the user's browser through
its development login and consent pages with plain HTTP.

``scripts/test`` installs the peer (``npm ci`` in ``tests/peers``). Without node or the
installed peer a test is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urljoin

import httpx

from tests.conftest import service_unavailable

PEERS = Path(__file__).resolve().parent
SCRIPT = PEERS / "oauth_provider.mjs"
START_SECONDS = 30
MAX_PAGES = 10


@dataclass
class OAuthProvider:
    """The running provider: its URL and client."""

    url: str
    client_id: str
    client_secret: str
    stderr: list[str] = field(default_factory=list)

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    async def grants(self, grant_type: str) -> int:
        """How many token requests of this grant type succeeded so far."""
        return int((await self._get("outcomes"))["grants"].get(grant_type, 0))

    async def errors(self) -> dict[str, int]:
        """How many token requests were refused, per RFC 6749 §5.2 error."""
        errors: dict[str, int] = (await self._get("outcomes"))["errors"]
        return errors

    async def _get(self, hook: str) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.url}/_test/{hook}")
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 introspection, authenticated as the client."""
        # RFC 6749 §2.3.1: the id and secret are form-urlencoded inside Basic.
        auth = (quote_plus(self.client_id), quote_plus(self.client_secret))
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{self.url}/token/introspection", data={"token": token}, auth=auth
            )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def revoke_grants(self) -> int:
        """Revoke every grant (and its tokens), as a user removing the app's access."""
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.url}/_test/revoke-grants")
        response.raise_for_status()
        return int(response.json()["revoked"])

    async def issued(self) -> list[str]:
        """Every authorization code, access token and refresh token issued so far."""
        return [str(value) for value in (await self._get("issued"))["issued"]]

    async def consent(
        self, authorization_url: str, *, login: str = "alice", deny: bool = False
    ) -> str:
        """Follow the authorization URL as a browser: sign in, consent (or refuse), and
        return the address the provider sends the browser back to (the callback)."""
        async with httpx.AsyncClient(follow_redirects=False) as browser:
            response = await browser.get(authorization_url)
            for _ in range(MAX_PAGES):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if not location.startswith(self.url):
                        return location
                    response = await browser.get(location)
                    continue
                assert response.status_code == 200, response.text[:2000]
                action, fields = _form(response.text)
                if deny and fields.get("prompt") == "consent":
                    response = await browser.get(urljoin(str(response.url), action) + "/abort")
                    continue
                if "login" in fields:
                    fields.update(login=login, password="any-password")
                response = await browser.post(urljoin(str(response.url), action), data=fields)
        raise AssertionError("the provider did not send the browser back")


def _form(page: str) -> tuple[str, dict[str, str]]:
    """The first form of a page: its action and its inputs with a name (hidden or not)."""
    form = re.search(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", page, re.S)
    assert form, page[:2000]
    fields = {}
    for tag in re.findall(r"<input[^>]*>", form.group(2)):
        name = re.search(r"name=\"([^\"]+)\"", tag)
        value = re.search(r"value=\"([^\"]*)\"", tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1) if value else "")
    return html.unescape(form.group(1)), fields


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        service_unavailable("node is not installed: the OAuth provider peer needs it")
    if not (PEERS / "node_modules" / "oidc-provider").is_dir():
        service_unavailable("the test peers are not installed: run `npm ci` in tests/peers")
    return node


@asynccontextmanager
async def start_provider(
    *,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    access_token_ttl: int = 300,
    token_auth: str = "client_secret_basic",
) -> AsyncIterator[OAuthProvider]:
    """Run the provider for the length of the block."""
    env = {
        "PATH": "/usr/bin:/bin",
        "CLIENT_ID": client_id,
        "CLIENT_SECRET": client_secret,
        "REDIRECT_URI": redirect_uri,
        "ACCESS_TOKEN_TTL": str(access_token_ttl),
        "TOKEN_AUTH": token_auth,
        "NODE_ENV": "test",
    }
    process = await asyncio.create_subprocess_exec(
        _node(),
        str(SCRIPT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    stderr: list[str] = []
    drain_stderr = asyncio.create_task(_collect(process.stderr, stderr))
    try:
        async with asyncio.timeout(START_SECONDS):
            first = (await process.stdout.readline()).decode()
        if not first.startswith("listening "):
            await process.wait()
            raise AssertionError("the OAuth provider did not start: " + "".join(stderr)[-2000:])
        yield OAuthProvider(first.split()[1], client_id, client_secret, stderr=stderr)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        drain_stderr.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain_stderr


async def _collect(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while line := await stream.readline():
        lines.append(line.decode(errors="replace"))

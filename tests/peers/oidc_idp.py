"""A real OpenID provider as an organization's IdP (npm ``oidc-provider``, run by
``oidc_idp.mjs``), "Entra-like" or "Okta-like", for the SSO tests.

:func:`start_idp` runs it on an ephemeral port of 127.0.0.1. :meth:`Idp.sign_in` plays the
user's browser through its development login and consent pages with plain HTTP and returns
where the IdP sends the browser back. Test hooks add accounts, rotate the signing key, sign
arbitrary claims with the current key, and count token grants and JWKS fetches.

Without node or the installed peer a test is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from tests.peers.oauth_provider import PEERS, START_SECONDS, _collect, _form, _node

SCRIPT = PEERS / "oidc_idp.mjs"
MAX_PAGES = 12
STOP_SECONDS = 5
TENANT_A = "a1b2c3d4-0000-4000-8000-00000000000a"
TENANT_B = "a1b2c3d4-0000-4000-8000-00000000000b"
TENANT_C = "a1b2c3d4-0000-4000-8000-00000000000c"
"""Entra-like tenants: A and B are acme's and beta's, C is nobody's."""


@dataclass
class Idp:
    """The running provider: its base URL, its flavour and its hooks."""

    url: str
    flavour: str
    stderr: list[str] = field(default_factory=list)

    # --- issuers -------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """Okta-like: the default authorization server's issuer."""
        return f"{self.url}/oauth2/default"

    @property
    def other_issuer(self) -> str:
        """Okta-like: a second issuer signing with the same keys."""
        return f"{self.url}/oauth2/other"

    def tenant_issuer(self, tenant: str) -> str:
        """Entra-like: the issuer of one tenant."""
        return f"{self.url}/{tenant}/v2.0"

    @property
    def organizations(self) -> str:
        """Entra-like: the multi-tenant ("organizations") issuer to configure."""
        return f"{self.url}/organizations/v2.0"

    # --- hooks ---------------------------------------------------------------------

    async def account(self, issuer: str, login: str, **claims: Any) -> None:
        """Let ``login`` sign in at ``issuer`` with these claims (sub is the login)."""
        await self._post("accounts", {"issuer": issuer, "login": login, "claims": claims})

    async def rotate_keys(self) -> str:
        """Sign with a new key from now on; the old one stays published. The new kid."""
        return str((await self._post("rotate-keys", {}))["kid"])

    async def sign(self, claims: Mapping[str, Any], header: Mapping[str, Any] | None = None) -> str:
        """A compact JWS over ``claims`` with the IdP's current key (RS256, its kid)."""
        answer = await self._post("sign", {"claims": dict(claims), "header": dict(header or {})})
        return str(answer["token"])

    async def outcomes(self) -> dict[str, Any]:
        """Token grants and errors, and JWKS fetches per issuer, so far."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.url}/_test/outcomes")
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    async def jwks_fetches(self, issuer: str) -> int:
        return int((await self.outcomes())["jwks"].get(issuer, 0))

    async def grants(self) -> int:
        return int((await self.outcomes())["grants"].get("authorization_code", 0))

    async def issued(self) -> list[str]:
        """Every authorization code and access token issued so far."""
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{self.url}/_test/issued")
        response.raise_for_status()
        return [str(value) for value in response.json()["issued"]]

    async def _post(self, hook: str, body: dict[str, Any]) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.url}/_test/{hook}", content=json.dumps(body))
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer

    # --- the browser ---------------------------------------------------------------

    async def sign_in(
        self,
        authorization_url: str,
        login: str,
        *,
        browser: httpx.AsyncClient | None = None,
        leave_at: str = "",
    ) -> str:
        """Follow ``authorization_url`` as a browser: sign in as ``login``, consent, and
        return the first address outside the IdP it is sent to (with ``leave_at``, the
        first address starting with it)."""
        async with contextlib.AsyncExitStack() as stack:
            if browser is None:
                browser = await stack.enter_async_context(httpx.AsyncClient(follow_redirects=False))
            return await self._browse(browser, authorization_url, login, leave_at)

    async def _browse(
        self, browser: httpx.AsyncClient, address: str, login: str, leave_at: str
    ) -> str:
        if leave_at and address.startswith(leave_at):
            return address
        if not address.startswith(self.url):
            return address
        response = await browser.get(address)
        for _ in range(MAX_PAGES):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if (leave_at and location.startswith(leave_at)) or not location.startswith(
                    self.url
                ):
                    return location
                response = await browser.get(location)
                continue
            assert response.status_code == 200, response.text[:2000]
            action, fields = _form(response.text)
            if "login" in fields:
                fields.update(login=login, password="any-password")
            if "logout" not in fields and "xsrf" in fields:
                fields["logout"] = "yes"  # the RP-initiated logout confirmation
            response = await browser.post(urljoin(str(response.url), action), data=fields)
        raise AssertionError("the IdP did not send the browser back")


@asynccontextmanager
async def start_idp(
    flavour: str,
    clients: list[dict[str, Any]],
    *,
    tenants: Mapping[str, list[str]] | None = None,
) -> AsyncIterator[Idp]:
    """Run the IdP for the length of the block."""
    env = {
        "PATH": "/usr/bin:/bin",
        "IDP_FLAVOUR": flavour,
        "IDP_CLIENTS": json.dumps(clients),
        "IDP_TENANTS": json.dumps(dict(tenants or {})),
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
            raise AssertionError("the IdP did not start: " + "".join(stderr)[-2000:])
        yield Idp(first.split()[1], flavour, stderr=stderr)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_SECONDS):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        drain_stderr.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain_stderr

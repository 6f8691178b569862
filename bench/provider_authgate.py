"""authgate's side of the OpenID provider stage: the app registered through the admin API, a
person signed in once through the pages (email and password, then consent), and codes minted
through the real authorization endpoint with that browser session.

A code works once and lives 60 s, so every run gets fresh ones just before it:
``GET /oauth/authorize?…&prompt=none`` with the session cookie answers 302 with a new code
each time (a new PKCE verifier, state and nonce each). The requests are written by hand on
keep-alive connections from core 1: httpx would be slower than the server here.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from loadgen import LOADGEN_CORE
from servers import Authgate

from authgate.provider.codes import s256

SCOPE = "openid profile email offline_access"
REDIRECT_URI = "https://app.bench.invalid/callback"
SESSION_COOKIE = "authgate_session"
MINT_CONNECTIONS = 16


def register(server: Authgate) -> tuple[str, str]:
    """The web app, registered by the organization's owner through the admin API."""
    access = server.sign_in()["access_token"]
    created = httpx.post(
        f"{server.url}/v1/orgs/bench/oauth-clients",
        json={"name": "bench web app", "client_type": "confidential",
              "grant_types": ["authorization_code", "refresh_token"],
              "scopes": SCOPE.split(), "redirect_uris": [REDIRECT_URI]},
        headers={"Authorization": f"Bearer {access}"},
        timeout=30,
    )  # fmt: skip
    app = created.json() if created.status_code == 201 else {}
    if app.get("token_endpoint_auth_method") != "client_secret_basic":
        raise RuntimeError(f"registering the app answered {created.status_code}: {created.text}")
    return app["client_id"], app["client_secret"]


def _authorize_query(client_id: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": SCOPE, "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge, "code_challenge_method": "S256", **extra,
    }  # fmt: skip


def _hidden_request(page: httpx.Response) -> str:
    found = re.search(r'name="request" value="([^"]+)"', page.text)
    if page.status_code != 200 or not found:
        raise RuntimeError(f"{page.url.path} answered {page.status_code}: {page.text[:400]}")
    return html.unescape(found.group(1))


def sign_in(server: Authgate, client_id: str) -> str:
    """Sign the owner in on the pages and allow the app once; the session cookie's value."""
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        query = _authorize_query(client_id, s256(secrets.token_urlsafe(48)))
        request = _hidden_request(browser.get("/oauth/authorize", params=query))
        form = {"request": request, "email": server.email, "password": server.password}
        consent = browser.post("/oauth/signin", data=form)
        done = browser.post(
            "/oauth/consent", data={"request": _hidden_request(consent), "decision": "allow"}
        )
        if not done.is_redirect or "code=" not in done.headers.get("location", ""):
            raise RuntimeError(f"consent answered {done.status_code}: {done.text[:400]}")
        cookie = browser.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise RuntimeError("signing in on the pages set no session cookie")
    return cookie


async def prompt_none_codes(url: str, client_id: str, cookie: str, count: int) -> list[str]:
    """``count`` fresh codes from ``GET /oauth/authorize?…&prompt=none`` with the session, on
    keep-alive connections written by hand (httpx would be slower than the server here)."""
    lines: list[str] = []
    split = urlsplit(url)
    head = f"host: {split.netloc}\r\ncookie: {SESSION_COOKIE}={cookie}\r\n\r\n".encode()

    async def worker(share: int) -> None:
        reader, writer = await asyncio.open_connection(split.hostname, split.port)
        try:
            for _ in range(share):
                verifier = secrets.token_urlsafe(48)
                query = urlencode(_authorize_query(client_id, s256(verifier), prompt="none"))
                writer.write(f"GET /oauth/authorize?{query} HTTP/1.1\r\n".encode() + head)
                answer = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                fields = {k.lower(): v for k, _, v in (x.partition(": ") for x in answer[1:])}
                body = await reader.readexactly(int(fields.get("content-length", "0")))
                location = fields.get("location", "")
                code = parse_qs(urlsplit(location).query).get("code")
                if not answer[0].startswith("HTTP/1.1 302") or not code:
                    said = location[:300] or body[:300].decode(errors="replace")
                    raise RuntimeError(f"prompt=none answered {answer[0]!r}: {said}")
                lines.append(f"{code[0]} {verifier}")
        finally:
            writer.close()

    shares = [
        count // MINT_CONNECTIONS + (n < count % MINT_CONNECTIONS) for n in range(MINT_CONNECTIONS)
    ]
    await asyncio.gather(*(worker(share) for share in shares if share))
    return lines


def mint_codes(url: str, client_id: str, cookie: str, count: int) -> list[str]:
    """``count`` "code verifier" lines, minted from the load generator's core."""
    everywhere = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(LOADGEN_CORE)})
    try:
        return asyncio.run(prompt_none_codes(url, client_id, cookie, count))
    finally:
        os.sched_setaffinity(0, everywhere)

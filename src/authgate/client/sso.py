"""Browser sign-in for native apps: a loopback redirect (RFC 8252 §7.3) with PKCE (RFC 7636).

The device asks ``POST /v1/sso/discover`` which identity provider serves the email's domain,
listens on ``http://127.0.0.1:<any free port>/callback`` (authgate's default registered
redirect URI; only a loopback port may vary), opens the system browser at the provider's
brokered start (``/v1/sso/start?idp=…``) with a PKCE S256 challenge and a fresh ``state``,
receives the one-time code at its loopback address, checks the state (and the RFC 9207
``iss``), and redeems the code with the verifier at ``POST /v1/sso/token``. The verifier
never leaves the device before the redemption, so a code caught on the way is of no use to
anyone else.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from authgate.client.api import DEVICE_CLIENT_ID
from authgate.client.errors import SignInFailed

CALLBACK_PATH = "/callback"
_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>authgate</title>"
    b"<p>Signed in. You can close this window and go back to the application.</p>"
)
_FAILED_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>authgate</title>"
    b"<p>The sign-in did not complete. Go back to the application for details.</p>"
)


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (RFC 7636 §4.1: 43 characters) and its S256 challenge (§4.2)."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackReceiver

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != CALLBACK_PATH:
            self.send_error(404)
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.send_response(200 if "code" in params else 400)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("cache-control", "no-store")
        self.send_header("referrer-policy", "no-referrer")
        self.end_headers()
        self.wfile.write(_DONE_PAGE if "code" in params else _FAILED_PAGE)
        self.server.deliver(params)

    def log_message(self, format: str, *args: object) -> None:
        """Nothing of the callback (it carries a code) goes to the terminal."""


class LoopbackReceiver(HTTPServer):
    """A one-shot HTTP server on 127.0.0.1 that waits for the browser's redirect."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self._received: dict[str, str] | None = None
        self._event = threading.Event()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def redirect_uri(self) -> str:
        """Where the browser is sent back to (the port is the one the system gave)."""
        return f"http://127.0.0.1:{self.server_address[1]}{CALLBACK_PATH}"

    def deliver(self, params: dict[str, str]) -> None:
        """Keep the first callback's parameters."""
        if self._received is None:
            self._received = params
            self._event.set()

    def wait(self, timeout: float) -> dict[str, str]:
        """The callback's query parameters; :class:`SignInFailed` after ``timeout``."""
        if not self._event.wait(timeout):
            raise SignInFailed(f"no sign-in came back from the browser within {timeout:g} s")
        assert self._received is not None
        return self._received

    def close(self) -> None:
        """Stop listening."""
        self.shutdown()
        self.server_close()


class SsoAttempt:
    """One browser sign-in: the loopback receiver, the PKCE pair, the state and the URL."""

    def __init__(self, server: str, provider: Mapping[str, Any], email: str | None) -> None:
        self.receiver = LoopbackReceiver()
        self.verifier, challenge = pkce_pair()
        self.state = secrets.token_urlsafe(32)
        self.redirect_uri = self.receiver.redirect_uri
        self.url = start_url(
            server + str(provider["start"]),
            redirect_uri=self.redirect_uri,
            challenge=challenge,
            state=self.state,
            email=email,
        )

    def __enter__(self) -> SsoAttempt:
        return self

    def __exit__(self, *exc: object) -> None:
        self.receiver.close()

    def code(self, give_up_after: float, issuer: str | None) -> str:
        """Wait for the browser's return and check it; the one-time code."""
        return code_of(self.receiver.wait(give_up_after), state=self.state, issuer=issuer)


def start_url(
    start: str,
    *,
    redirect_uri: str,
    challenge: str,
    state: str,
    email: str | None,
) -> str:
    """The brokered sign-in's start URL the browser opens."""
    params = {
        "client_id": DEVICE_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
    }
    if email:
        params["login_hint"] = email
    separator = "&" if urlsplit(start).query else "?"
    return f"{start}{separator}{urlencode(params)}"


def provider_of(discovered: Mapping[str, Any], organization: str | None) -> Mapping[str, Any]:
    """The identity provider to sign in with, from home-realm discovery's answer."""
    providers = [p for p in discovered.get("providers", ()) if isinstance(p, Mapping)]
    if organization:
        providers = [p for p in providers if p.get("organization") == organization]
    if not providers:
        where = f" for organization '{organization}'" if organization else ""
        raise SignInFailed(
            f"single sign-on is not set up for this email's domain{where}; sign in with a "
            "password or the device code instead"
        )
    if len(providers) > 1:
        names = ", ".join(sorted(f"{p.get('organization')}/{p.get('name')}" for p in providers))
        raise SignInFailed(f"several identity providers serve this domain ({names}); name one "
                           "organization")  # fmt: skip
    return providers[0]


def code_of(params: Mapping[str, str], *, state: str, issuer: str | None) -> str:
    """The one-time code of a callback, after checking it answers this very sign-in."""
    if not secrets.compare_digest(params.get("state", ""), state):
        raise SignInFailed("the browser came back with another sign-in's state; start again")
    if "error" in params:
        description = params.get("error_description", "")[:200]
        raise SignInFailed(f"the sign-in was refused: {params['error'][:64]} {description}")
    sent_issuer = params.get("iss")
    if sent_issuer is not None and issuer is not None and sent_issuer != issuer:
        raise SignInFailed("the sign-in came back from another issuer (RFC 9207); start again")
    code = params.get("code")
    if not code:
        raise SignInFailed("the browser came back without a code; start again")
    return code

"""Browser sign-in: loopback redirect (RFC 8252 §7.3) and PKCE (RFC 7636), against a
stand-in of authgate's brokered SSO interface (``/v1/sso/discover``, ``/v1/sso/start``,
``/v1/sso/token``) on 127.0.0.1 that misbehaves on request; tests/http/test_device_sso.py
runs the same sign-in against authgate itself and a real OpenID provider."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from authgate.client import Client, SignInFailed

CODE = "one-time-code-91c2"


@dataclass
class Broker:
    """What the stand-in saw and how it misbehaves."""

    issuer: str = ""
    challenge: str | None = None
    redirect_uri: str | None = None
    state_override: str | None = None
    issuer_override: str | None = None
    error: str | None = None
    providers: int = 1
    redeemed: list[dict[str, str]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        broker = self.server.broker
        parts = urlsplit(self.path)
        if parts.path == "/.well-known/oauth-authorization-server":
            self._json(
                200, {"issuer": broker.issuer, "token_endpoint": broker.issuer + "/oauth/token"}
            )
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert parts.path == "/v1/sso/start"
        assert query["idp"] == "idp-1"
        assert query["code_challenge_method"] == "S256"
        assert query["client_id"] == "authgate-device"
        assert query["login_hint"] == "ada@acme.test"
        broker.challenge = query["code_challenge"]
        broker.redirect_uri = query["redirect_uri"]
        back = {"state": broker.state_override or query["state"],
                "iss": broker.issuer_override or broker.issuer}  # fmt: skip
        back.update({"error": broker.error} if broker.error else {"code": CODE})
        self.send_response(302)
        self.send_header("location", f"{query['redirect_uri']}?{urlencode(back)}")
        self.end_headers()

    def do_POST(self) -> None:
        broker = self.server.broker
        length = int(self.headers["content-length"])
        data = self.rfile.read(length).decode()
        if self.path == "/v1/sso/discover":
            assert json.loads(data) == {"email": "ada@acme.test"}
            providers = [
                {"id": f"idp-{n}", "name": f"idp{n}", "organization": f"org{n}",
                 "start": f"/v1/sso/start?idp=idp-{n}"}
                for n in range(1, broker.providers + 1)
            ]  # fmt: skip
            self._json(200, {"domain": "acme.test", "sso": bool(providers),
                             "passwordAllowed": True, "providers": providers})  # fmt: skip
            return
        assert self.path == "/v1/sso/token"
        form = {k: v[0] for k, v in parse_qs(data).items()}
        broker.redeemed.append(form)
        digest = hashlib.sha256(form["code_verifier"].encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            form["grant_type"] != "authorization_code"
            or form["code"] != CODE
            or challenge != broker.challenge
            or form["redirect_uri"] != broker.redirect_uri
        ):
            self._json(400, {"error": "invalid_grant", "error_description": "no"})
            return
        self._json(200, {"access_token": "h.e.s", "token_type": "Bearer", "expires_in": 900,
                         "refresh_token": "r", "organization": "acme"})  # fmt: skip

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class _Server(ThreadingHTTPServer):
    broker: Broker


@pytest.fixture
def broker() -> Iterator[Broker]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.broker = Broker(issuer=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.broker
    finally:
        server.shutdown()
        server.server_close()


def browser(url: str) -> None:
    """The system browser: follows the redirects to the loopback address."""
    httpx.get(url, follow_redirects=True, timeout=10)


def test_the_code_comes_back_to_the_loopback_and_is_redeemed_with_pkce(
    broker: Broker, tmp_path: Path
) -> None:
    with Client(broker.issuer, root=tmp_path) as client:
        tokens = client.login_sso("ada@acme.test", open_browser=browser, give_up_after=10)
        assert tokens.organization == "acme"
        assert client.session.current().refresh_token == "r"
    [redeemed] = broker.redeemed
    assert broker.redirect_uri is not None
    assert broker.redirect_uri.startswith("http://127.0.0.1:")
    assert broker.redirect_uri.endswith("/callback")
    assert len(redeemed["code_verifier"]) >= 43


@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("state_override", "someone-elses-state", "state"),
        ("issuer_override", "https://mix-up.example", "issuer"),
        ("error", "access_denied", "refused"),
    ],
)
def test_a_callback_that_does_not_answer_this_sign_in_is_refused(
    broker: Broker, tmp_path: Path, setting: str, value: str, words: str
) -> None:
    setattr(broker, setting, value)
    with Client(broker.issuer, root=tmp_path) as client, pytest.raises(SignInFailed) as refused:
        client.login_sso("ada@acme.test", open_browser=browser, give_up_after=10)
    assert words in refused.value.message
    assert broker.redeemed == []
    assert client.session.peek() is None


@pytest.mark.parametrize(("providers", "words"), [(0, "not set up"), (2, "several")])
def test_the_identity_provider_must_be_one(
    broker: Broker, tmp_path: Path, providers: int, words: str
) -> None:
    broker.providers = providers
    opened: list[str] = []
    with Client(broker.issuer, root=tmp_path) as client, pytest.raises(SignInFailed) as refused:
        client.login_sso("ada@acme.test", open_browser=opened.append)
    assert words in refused.value.message
    assert opened == []
    broker.providers = 2
    with Client(broker.issuer, root=tmp_path) as client:
        chosen = client.login_sso("ada@acme.test", "org1", open_browser=browser, give_up_after=10)
    assert chosen.organization == "acme"


def test_no_callback_in_time_ends_the_sign_in(broker: Broker, tmp_path: Path) -> None:
    with Client(broker.issuer, root=tmp_path) as client, pytest.raises(SignInFailed):
        client.login_sso("ada@acme.test", open_browser=lambda url: None, give_up_after=0.2)

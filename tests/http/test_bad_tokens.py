"""Forged, tampered and expired access tokens: 401 ``invalid_token`` with
``WWW-Authenticate: Bearer`` on the API, ``{"active": false}`` at introspection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from nacl.signing import SigningKey

from authgate.identity.deps import Actor
from tests.http.conftest import Authgate, basic, bearer

Sign = Callable[[bytes], bytes]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(header: dict[str, Any], payload: dict[str, Any], sign: Sign | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = sign(signing_input.encode()) if sign else b""
    return f"{signing_input}.{b64(signature)}"


class Forger:
    """Builds variants of one genuine access token."""

    def __init__(self, ag: Authgate, token: str) -> None:
        self.token = token
        head, body, _ = token.split(".")
        self.header: dict[str, Any] = json.loads(unb64(head))
        self.claims: dict[str, Any] = json.loads(unb64(body))
        self.server_key = ag.services.keyring.signer()
        jwks = ag.services.keyring.jwks()["keys"]
        self.public_x = next(k["x"] for k in jwks if k["kid"] == self.header["kid"])

    def ours(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        """Signed with the server's own key: only the claims or header are wrong."""
        payload = {k: v for k, v in {**self.claims, **claims}.items() if v is not None}
        return forge({**self.header, **(header or {})}, payload, self.server_key.sign)

    def variants(self) -> dict[str, str]:
        head, body, sig = self.token.split(".")
        stranger = SigningKey.generate()
        claims = {**self.claims, "roles": ["OWNER", "ADMIN"]}
        hs_header = {**self.header, "alg": "HS256"}
        now = self.claims["iat"]
        flipped = "A" if sig[-2] != "A" else "B"
        return {
            "payload swapped": f"{head}.{b64(json.dumps(claims).encode())}.{sig}",
            "signature flipped": f"{head}.{body}.{sig[:-2]}{flipped}{sig[-1]}",
            "signature dropped": f"{head}.{body}.",
            "two parts": f"{head}.{body}",
            "four parts": f"{self.token}.{sig}",
            "truncated": self.token[:-10],
            "padded": self.token + "==",
            "alg none": forge({**self.header, "alg": "none"}, claims, None),
            "alg None": forge({**self.header, "alg": "None"}, claims, None),
            "HS256 with x": forge(
                hs_header,
                claims,
                lambda m: hmac.new(self.public_x.encode(), m, hashlib.sha256).digest(),
            ),
            "HS256 with raw key": forge(
                hs_header,
                claims,
                lambda m: hmac.new(unb64(self.public_x), m, hashlib.sha256).digest(),
            ),
            "stranger key, our kid": forge(
                self.header, claims, lambda m: stranger.sign(m).signature
            ),
            "stranger key, own kid": forge(
                {**self.header, "kid": "stranger"}, claims, lambda m: stranger.sign(m).signature
            ),
            "no kid": forge({"alg": "EdDSA", "typ": "at+jwt"}, claims, self.server_key.sign),
            "crit header": self.ours({"crit": ["exp"], "exp": 1}),
            "ID token typ": self.ours({"typ": "JWT"}),
            "no typ": forge(
                {k: v for k, v in self.header.items() if k != "typ"},
                self.claims,
                self.server_key.sign,
            ),
            "wrong iss": self.ours(iss="https://evil.example"),
            "wrong aud": self.ours(aud="another-api"),
            "aud list without us": self.ours(aud=["a", "b"]),
            "expired": self.ours(exp=now - 3600, iat=now - 7200),
            "from the future": self.ours(iat=now + 3600, exp=now + 7200),
            "string exp": self.ours(exp=str(now + 900)),
            "no sub": self.ours(sub=None),
            "roles not a list": self.ours(roles="OWNER"),
            "not JSON": f"{b64(b'not json')}.{body}.{sig}",
            "huge": "a" * 9000,
            "empty": "",
        }


@pytest.fixture
async def forged(ag: Authgate) -> tuple[Forger, dict[str, Any]]:
    org, owner = await ag.org_with_owner()
    tokens = await ag.login(owner.email)
    client, secret = await ag.services.clients.create(org.slug, "api", "read", Actor(owner.id))
    return Forger(ag, tokens["access_token"]), {"client_id": client.client_id, "secret": secret}


async def test_the_genuine_token_works_and_signing_it_again_reproduces_it(
    ag: Authgate, forged: tuple[Forger, dict[str, Any]]
) -> None:
    forger, _ = forged
    assert (await ag.me(forger.token)).status_code == 200
    # The forging helper is faithful: the only difference in each variant is deliberate.
    assert (await ag.me(forger.ours())).status_code == 200


async def test_every_forgery_is_invalid_token(
    ag: Authgate, forged: tuple[Forger, dict[str, Any]]
) -> None:
    forger, client = forged
    for name, token in forger.variants().items():
        response = await ag.client.get("/v1/me", headers=bearer(token) if token else {})
        assert response.status_code == 401, (name, response.text)
        code = response.json()["error"]["code"]
        assert code == ("unauthenticated" if not token else "invalid_token"), name
        assert response.headers["www-authenticate"].startswith("Bearer"), name
        introspected = await ag.client.post(
            "/oauth/introspect",
            data={"token": token or "x"},
            headers=basic(client["client_id"], client["secret"]),
        )
        assert introspected.json() == {"active": False}, name


async def test_tokens_expire_by_the_clock(
    ag: Authgate, forged: tuple[Forger, dict[str, Any]]
) -> None:
    forger, client = forged
    ag.clock.advance(900 + 31)  # the lifetime plus the allowed clock skew
    response = await ag.me(forger.token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    introspected = await ag.client.post(
        "/oauth/introspect",
        data={"token": forger.token},
        headers=basic(client["client_id"], client["secret"]),
    )
    assert introspected.json() == {"active": False}


async def test_a_refresh_token_is_not_an_access_token(ag: Authgate) -> None:
    _, owner = await ag.org_with_owner()
    tokens = await ag.login(owner.email)
    response = await ag.me(tokens["refresh_token"])
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"

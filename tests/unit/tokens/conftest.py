"""Fixtures for the token tests: a controllable clock, a loaded keyring, and a token forger.

The forger builds compact JWS by hand with the ``cryptography`` package, so crafted tokens do
not depend on how authgate itself serializes or signs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from authgate.crypto import ed25519
from authgate.tokens.access import AccessTokens
from authgate.tokens.keyring import Keyring

ISSUER = "https://id.example.com"
AUDIENCE = "authgate"
TTL = 900


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def timestamp(self) -> int:
        return int(self.now.timestamp())


class TestKey:
    """An Ed25519 key as authgate generates it, plus a private handle for forging."""

    __test__ = False

    def __init__(self) -> None:
        self.signer, self.jwk, self.raw = ed25519.generate()
        self.kid = self.jwk["kid"]
        self.private_key = Ed25519PrivateKey.from_private_bytes(self.raw)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_part(value: Any) -> str:
    """A header or payload part: bytes as given, anything else as compact JSON."""
    if isinstance(value, bytes):
        return b64url(value)
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


Forge = Callable[..., str]


@pytest.fixture
def clock() -> FakeClock:
    # Near the real time, so that PyJWT (which reads the system clock) agrees on expiry.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def key() -> TestKey:
    return TestKey()


@pytest.fixture
def keyring(key: TestKey) -> Keyring:
    keyring = Keyring()
    keyring.load([key.signer], [key.jwk])
    return keyring


@pytest.fixture
def access(keyring: Keyring, clock: FakeClock) -> AccessTokens:
    return AccessTokens(issuer=ISSUER, audience=AUDIENCE, ttl=TTL, keyring=keyring, clock=clock)


@pytest.fixture
def new_key() -> Callable[[], TestKey]:
    return TestKey


@pytest.fixture
def claims(clock: FakeClock) -> dict[str, Any]:
    """A complete, valid access-token payload as of the clock's time."""
    now = clock.timestamp()
    return {
        "iss": ISSUER,
        "sub": "user-1",
        "aud": AUDIENCE,
        "exp": now + TTL,
        "iat": now,
        "jti": "jti-0123456789abcdef",
        "client_id": "authgate-device",
        "scope": "openid profile",
        "org": "org-1",
        "roles": ["MEMBER"],
        "sid": "session-1",
    }


@pytest.fixture
def forge(key: TestKey) -> Forge:
    """``forge(header_updates, payload, *, signer=key, header=None, raw_signature=None)``.

    The header defaults to what authgate issues (``typ at+jwt``, ``alg EdDSA``, our ``kid``);
    ``header_updates`` changes it (a value of ``None`` removes a member), ``header`` replaces it.
    """

    def _forge(
        header_updates: dict[str, Any] | None,
        payload: Any,
        *,
        signer: TestKey | None = None,
        header: Any = None,
        raw_signature: bytes | None = None,
    ) -> str:
        signing_key = signer or key
        if header is None:
            header = {"typ": "at+jwt", "alg": "EdDSA", "kid": signing_key.kid}
            for name, value in (header_updates or {}).items():
                if value is None:
                    header.pop(name, None)
                else:
                    header[name] = value
        signing_input = f"{encode_part(header)}.{encode_part(payload)}"
        signature = (
            raw_signature
            if raw_signature is not None
            else signing_key.private_key.sign(signing_input.encode("ascii"))
        )
        return f"{signing_input}.{b64url(signature)}"

    return _forge

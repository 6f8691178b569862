"""Keys, clock and a gateway-like signer shared by the home-server kit's tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from authgate.signedfetch.signature import SharedSecret, SignatureMethod, SigningCredential
from authgate.signedfetch.signing import sign_request
from tests.unit.signedfetch.conftest import rsa_private_key, rsa_private_pem

__all__ = ["rsa_private_key", "rsa_private_pem"]  # the session's RSA key, shared as fixtures

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
APP_KEY = "crm-app"
APP_SECRET = "app-s3cret/with+reserved&chars~é"
INSTANCE = "acme-prod"
USER = "alice@acme.example"
OWNER = f"{USER}@{INSTANCE}"
APP_ID = "crm"
APP_URL = "https://apps.acme.example/crm.xml"
BASE = "https://home.example.org:8443/api/items"


def identity_query(owner: str = OWNER, **extra: str) -> str:
    """The query a gateway adds: owner, viewer, app and instance."""
    instance = owner.rpartition("@")[2]
    pairs = [
        ("opensocial_owner_id", owner),
        ("opensocial_viewer_id", owner),
        ("opensocial_app_id", APP_ID),
        ("opensocial_app_url", APP_URL),
        ("opensocial_instance_id", instance),
        *extra.items(),
    ]
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def gateway_url(path: str = BASE, owner: str = OWNER, **extra: str) -> str:
    """A URL as the gateway forwards it."""
    return f"{path}?{identity_query(owner, **extra)}"


def fixed_clock(when: datetime = NOW) -> Callable[[], datetime]:
    """A clock that always says ``when``."""
    return lambda: when


def gateway_sign(
    method: str = "GET",
    url: str | None = None,
    body: bytes = b"",
    *,
    content_type: str | None = None,
    credential: SigningCredential | None = None,
    signature_method: SignatureMethod = SignatureMethod.HMAC_SHA1,
    now: datetime = NOW,
    nonce: str | None = None,
    key: str = APP_KEY,
) -> tuple[str, dict[str, str]]:
    """Sign as the gateway does (authgate's own signer): the URL and headers to send."""
    url = url or gateway_url()
    signed = sign_request(
        method, url, body=body, consumer_key=key,
        consumer_secret=credential or SharedSecret(APP_SECRET),
        signature_method=signature_method, content_type=content_type, now=now, nonce=nonce,
    )  # fmt: skip
    headers = {"Authorization": signed.authorization}
    if content_type:
        headers["Content-Type"] = content_type
    return url, headers


@pytest.fixture(scope="session")
def rsa_public_pem(rsa_private_key: RSAPrivateKey) -> str:
    """The public half, as a container publishes it."""
    return (
        rsa_private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )

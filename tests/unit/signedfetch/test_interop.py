"""Signatures made by oauthlib and requests-oauthlib verify here, and ours verify there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from oauthlib.oauth1 import (
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    SIGNATURE_RSA_SHA1,
    SIGNATURE_TYPE_AUTH_HEADER,
    SIGNATURE_TYPE_BODY,
    SIGNATURE_TYPE_QUERY,
    Client,
    RequestValidator,
    SignatureOnlyEndpoint,
)
from requests_oauthlib import OAuth1

from authgate.signedfetch.errors import InvalidOAuthRequest, InvalidSignature
from authgate.signedfetch.parameters import Placement
from authgate.signedfetch.signature import (
    ConsumerCredential,
    RsaSigningKey,
    RsaVerificationKey,
    SharedSecret,
    SignatureMethod,
)
from authgate.signedfetch.signing import sign_request
from authgate.signedfetch.verify import verify_request
from tests.unit.signedfetch.conftest import CONSUMER_KEY, CONSUMER_SECRET, NOW

URL = "https://home.example.org:8443/api/items?opensocial_owner_id=u1%40inst&tag=a+b&tag=c"
FORM = "application/x-www-form-urlencoded"
PLACEMENTS = {
    SIGNATURE_TYPE_AUTH_HEADER: Placement.HEADER,
    SIGNATURE_TYPE_QUERY: Placement.QUERY,
    SIGNATURE_TYPE_BODY: Placement.BODY,
}
METHODS = {
    SIGNATURE_HMAC_SHA1: SignatureMethod.HMAC_SHA1,
    SIGNATURE_HMAC_SHA256: SignatureMethod.HMAC_SHA256,
    SIGNATURE_RSA_SHA1: SignatureMethod.RSA_SHA1,
}


def _their_client(method: str, placement: str, pem: str) -> Client:
    rsa = method == SIGNATURE_RSA_SHA1
    return Client(
        CONSUMER_KEY,
        client_secret=None if rsa else CONSUMER_SECRET,
        signature_method=method,
        signature_type=placement,
        rsa_key=pem if rsa else None,
        timestamp=str(int(NOW.timestamp())),
        nonce="abcdefghijklmnopqrstuvwx",
    )


def _our_credential(method: str, key: RSAPrivateKey) -> ConsumerCredential:
    if method == SIGNATURE_RSA_SHA1:
        return RsaVerificationKey(key.public_key())
    return SharedSecret(CONSUMER_SECRET)


def test_requests_oauthlib_json_without_body_hash_is_refused() -> None:
    auth = OAuth1(CONSUMER_KEY, client_secret=CONSUMER_SECRET, timestamp=str(int(NOW.timestamp())))
    prepared = requests.Request(
        "POST", URL, data="{}", headers={"Content-Type": "application/json"}, auth=auth
    ).prepare()
    assert prepared.url is not None
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    lookup = _lookup(SharedSecret(CONSUMER_SECRET))
    with pytest.raises(InvalidOAuthRequest, match="must carry oauth_body_hash"):
        verify_request("POST", prepared.url, headers, b"{}", find_consumer=lookup, now=NOW)


def _lookup(credential: ConsumerCredential) -> Any:
    return lambda consumer_key: credential if consumer_key == CONSUMER_KEY else None


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("placement", list(PLACEMENTS))
def test_oauthlib_form_requests_verify_here(
    method: str, placement: str, rsa_private_key: RSAPrivateKey, rsa_private_pem: str
) -> None:
    client = _their_client(method, placement, rsa_private_pem)
    uri, headers, body = client.sign(
        URL, "POST", body="name=J%C3%BCrgen+M&x=%21%2A", headers={"Content-Type": FORM}
    )
    raw = body.encode("ascii")
    lookup = _lookup(_our_credential(method, rsa_private_key))
    verified = verify_request("POST", uri, headers, raw, find_consumer=lookup, now=NOW)
    assert verified.placement is PLACEMENTS[placement]
    assert verified.signature_method is METHODS[method]
    assert ("name", "Jürgen M") in verified.parameters
    with pytest.raises(InvalidSignature):
        verify_request("POST", uri, headers, raw + b"&y=1", find_consumer=lookup, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_request("PUT", uri, headers, raw, find_consumer=lookup, now=NOW)


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA1, SIGNATURE_RSA_SHA1])
def test_oauthlib_json_request_with_body_hash_verifies_here(
    method: str, rsa_private_key: RSAPrivateKey, rsa_private_pem: str
) -> None:
    client = _their_client(method, SIGNATURE_TYPE_AUTH_HEADER, rsa_private_pem)
    payload = '{"name": "Jürgen"}'
    uri, headers, _ = client.sign(
        URL, "POST", body=payload, headers={"Content-Type": "application/json"}
    )
    assert "oauth_body_hash" in headers["Authorization"]
    lookup = _lookup(_our_credential(method, rsa_private_key))
    verified = verify_request("POST", uri, headers, payload.encode(), find_consumer=lookup, now=NOW)
    assert verified.body_hash is not None
    with pytest.raises(InvalidSignature):
        verify_request("POST", uri, headers, b'{"name": "x"}', find_consumer=lookup, now=NOW)


@pytest.mark.parametrize("method", list(METHODS))
def test_oauthlib_get_requests_verify_here(
    method: str, rsa_private_key: RSAPrivateKey, rsa_private_pem: str
) -> None:
    client = _their_client(method, SIGNATURE_TYPE_QUERY, rsa_private_pem)
    uri, headers, _ = client.sign("http://Home.Example.ORG:80/a%20b/c?q=%E2%98%83", "GET")
    lookup = _lookup(_our_credential(method, rsa_private_key))
    verified = verify_request("GET", uri, headers, b"", find_consumer=lookup, now=NOW)
    assert ("q", "☃") in verified.parameters
    tampered = uri.replace("a%20b", "a%20c")
    with pytest.raises(InvalidSignature):
        verify_request("GET", tampered, headers, b"", find_consumer=lookup, now=NOW)


@pytest.mark.parametrize(
    ("method", "content_type", "data"),
    [
        (SIGNATURE_HMAC_SHA1, FORM, {"a": "1 2", "b": "+&="}),
        (SIGNATURE_HMAC_SHA256, FORM, {"a": "ü"}),
        (SIGNATURE_HMAC_SHA1, "application/json", '{"k": [1, 2]}'),
        (SIGNATURE_RSA_SHA1, "application/json", '{"k": true}'),
    ],
)
def test_requests_oauthlib_prepared_requests_verify_here(
    method: str,
    content_type: str,
    data: Any,
    rsa_private_key: RSAPrivateKey,
    rsa_private_pem: str,
) -> None:
    rsa = method == SIGNATURE_RSA_SHA1
    auth = OAuth1(
        CONSUMER_KEY,
        client_secret=None if rsa else CONSUMER_SECRET,
        signature_method=method,
        rsa_key=rsa_private_pem if rsa else None,
        timestamp=str(int(NOW.timestamp())),
        # Without it requests-oauthlib signs non-form bodies without oauth_body_hash.
        force_include_body=True,
    )
    prepared = requests.Request(
        "POST", URL, data=data, headers={"Content-Type": content_type}, auth=auth
    ).prepare()
    body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode()
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()}
    lookup = _lookup(_our_credential(method, rsa_private_key))
    assert prepared.url is not None
    verified = verify_request("POST", prepared.url, headers, body, find_consumer=lookup, now=NOW)
    assert verified.consumer_key == CONSUMER_KEY
    assert ("tag", "a b") in verified.parameters
    with pytest.raises(InvalidSignature):
        verify_request(
            "POST", prepared.url.replace("8443", "8444"), headers, body,
            find_consumer=lookup, now=NOW,
        )  # fmt: skip


class _Validator(RequestValidator):  # type: ignore[misc]
    """The minimum oauthlib needs to check a two-legged signature."""

    def __init__(self, key: RSAPrivateKey) -> None:
        super().__init__()
        self._key = key

    enforce_ssl = False
    allowed_signature_methods = (SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_RSA_SHA1)

    def check_client_key(self, client_key: str) -> bool:
        # oauthlib's default insists on 20-30 alphanumerics; our keys are longer-lived names.
        return client_key == CONSUMER_KEY

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key == CONSUMER_KEY

    def validate_timestamp_and_nonce(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return CONSUMER_SECRET

    def get_rsa_key(self, client_key: str, request: Any) -> str:
        from cryptography.hazmat.primitives import serialization

        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode("ascii")
        )

    @property
    def dummy_client(self) -> str:
        return "dummy"


@pytest.mark.parametrize("method", list(METHODS.values()))
@pytest.mark.parametrize(
    ("http_method", "content_type", "body"),
    [
        ("GET", None, b""),
        ("POST", FORM, b"a=1+2&b=%E2%98%83&b=x"),
        ("POST", "application/json", b'{"a": 1}'),
    ],
)
def test_our_signatures_verify_in_oauthlib(
    method: SignatureMethod,
    http_method: str,
    content_type: str | None,
    body: bytes,
    rsa_private_key: RSAPrivateKey,
) -> None:
    # oauthlib checks timestamps against the real clock, so sign with it.
    now = datetime.now(UTC)
    credential = (
        RsaSigningKey(rsa_private_key)
        if method is SignatureMethod.RSA_SHA1
        else SharedSecret(CONSUMER_SECRET)
    )
    result = sign_request(
        http_method, URL, body=body, consumer_key=CONSUMER_KEY, consumer_secret=credential,
        signature_method=method, content_type=content_type, now=now,
    )  # fmt: skip
    headers = {"Authorization": result.authorization}
    if content_type:
        headers["Content-Type"] = content_type
    endpoint = SignatureOnlyEndpoint(_Validator(rsa_private_key))
    valid, _ = endpoint.validate_request(URL, http_method, body.decode() or None, headers)
    assert valid
    other_path = URL.replace("/items", "/other")
    assert urlsplit(other_path).path == "/api/other"
    tampered, _ = endpoint.validate_request(other_path, http_method, body.decode() or None, headers)
    assert not tampered

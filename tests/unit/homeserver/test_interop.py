"""Signatures made by code written elsewhere verify through the kit: oauthlib,
requests-oauthlib (Python) and the npm package oauth-1.0a (JavaScript)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from oauthlib.oauth1 import (
    SIGNATURE_HMAC_SHA1,
    SIGNATURE_HMAC_SHA256,
    SIGNATURE_RSA_SHA1,
    SIGNATURE_TYPE_AUTH_HEADER,
    SIGNATURE_TYPE_BODY,
    SIGNATURE_TYPE_QUERY,
    Client,
)
from requests_oauthlib import OAuth1

from authgate.homeserver import (
    InvalidSignature,
    ReplayedNonce,
    SignedFetchVerifier,
    rsa_public_key,
)
from authgate.signedfetch.signature import ConsumerCredential
from tests.peers.oauth1_signer import npm_sign
from tests.unit.homeserver.conftest import APP_KEY, APP_SECRET, INSTANCE, OWNER, USER, gateway_url

URL = gateway_url(path="https://home.example.org:8443/api/items", tag="a b")
FORM = "application/x-www-form-urlencoded"
PLACEMENTS = [SIGNATURE_TYPE_AUTH_HEADER, SIGNATURE_TYPE_QUERY, SIGNATURE_TYPE_BODY]
METHODS = [SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_RSA_SHA1]


def kit(method: str, public_pem: str) -> SignedFetchVerifier:
    """A verifier with the real clock: these signers stamp requests with it."""
    credential: ConsumerCredential | str = (
        rsa_public_key(public_pem) if method == SIGNATURE_RSA_SHA1 else APP_SECRET
    )
    return SignedFetchVerifier({APP_KEY: credential})


def text_headers(headers: Any) -> dict[str, str]:
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("placement", PLACEMENTS)
def test_oauthlib_form_posts_verify(
    method: str, placement: str, rsa_private_pem: str, rsa_public_pem: str
) -> None:
    rsa = method == SIGNATURE_RSA_SHA1
    client = Client(
        APP_KEY,
        client_secret=None if rsa else APP_SECRET,
        signature_method=method,
        signature_type=placement,
        rsa_key=rsa_private_pem if rsa else None,
    )
    uri, headers, body = client.sign(
        URL, "POST", body="note=Gr%C3%BC%C3%9Fe+aus+K%C3%B6ln&n=1", headers={"Content-Type": FORM}
    )
    verifier = kit(method, rsa_public_pem)
    fetch = verifier.verify("POST", uri, headers, body.encode("ascii"))
    assert (fetch.user_id, fetch.instance_id, fetch.owner_id) == (USER, INSTANCE, OWNER)
    assert fetch.get("note") == "Grüße aus Köln"
    assert fetch.get("tag") == "a b"
    with pytest.raises(ReplayedNonce):
        verifier.verify("POST", uri, headers, body.encode("ascii"))


@pytest.mark.parametrize("method", [SIGNATURE_HMAC_SHA1, SIGNATURE_RSA_SHA1])
def test_oauthlib_json_post_with_body_hash_verifies(
    method: str, rsa_private_pem: str, rsa_public_pem: str
) -> None:
    rsa = method == SIGNATURE_RSA_SHA1
    client = Client(
        APP_KEY,
        client_secret=None if rsa else APP_SECRET,
        signature_method=method,
        rsa_key=rsa_private_pem if rsa else None,
    )
    payload = '{"name": "Jürgen"}'
    uri, headers, _ = client.sign(
        URL, "POST", body=payload, headers={"Content-Type": "application/json"}
    )
    assert "oauth_body_hash" in headers["Authorization"]
    verifier = kit(method, rsa_public_pem)
    assert verifier.verify("POST", uri, headers, payload.encode()).user_id == USER
    uri, headers, _ = client.sign(
        URL, "POST", body=payload, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(InvalidSignature):
        verifier.verify("POST", uri, headers, b'{"name": "Mallory"}')


def test_oauthlib_sha1_body_hash_under_hmac_sha256_is_refused_by_name() -> None:
    # oauthlib hashes bodies with SHA-1 whatever the method; the extension (§3.1) and
    # authgate use the signature method's hash, SHA-256 for HMAC-SHA256.
    client = Client(APP_KEY, client_secret=APP_SECRET, signature_method=SIGNATURE_HMAC_SHA256)
    uri, headers, _ = client.sign(URL, "POST", body="{}", headers={"Content-Type": "text/json"})
    with pytest.raises(InvalidSignature, match="SHA-256 of the raw body"):
        SignedFetchVerifier({APP_KEY: APP_SECRET}).verify("POST", uri, headers, b"{}")


@pytest.mark.parametrize(
    ("method", "content_type", "data"),
    [
        (SIGNATURE_HMAC_SHA1, FORM, {"a": "1 2", "b": "+&="}),
        (SIGNATURE_HMAC_SHA256, FORM, {"a": "ü"}),
        (SIGNATURE_HMAC_SHA1, "application/json", '{"k": [1, 2]}'),
        (SIGNATURE_RSA_SHA1, "application/json", '{"k": true}'),
    ],
)
def test_requests_oauthlib_prepared_requests_verify(
    method: str, content_type: str, data: Any, rsa_private_pem: str, rsa_public_pem: str
) -> None:
    rsa = method == SIGNATURE_RSA_SHA1
    auth = OAuth1(
        APP_KEY,
        client_secret=None if rsa else APP_SECRET,
        signature_method=method,
        rsa_key=rsa_private_pem if rsa else None,
        force_include_body=True,  # otherwise non-form bodies go without oauth_body_hash
    )
    prepared = requests.Request(
        "POST", URL, data=data, headers={"Content-Type": content_type}, auth=auth
    ).prepare()
    body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode()
    assert prepared.url is not None
    fetch = kit(method, rsa_public_pem).verify(
        "POST", prepared.url, text_headers(prepared.headers), body
    )
    assert (fetch.user_id, fetch.app_id) == (USER, "crm")


NPM_METHODS = ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1"]


def npm_request(signature_method: str, private_pem: str, **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": "GET",
        "url": URL,
        "consumer_key": APP_KEY,
        "signature_method": signature_method,
        "placement": "header",
    }
    if signature_method == "RSA-SHA1":
        request["private_key_pem"] = private_pem
    else:
        request["consumer_secret"] = APP_SECRET
    request.update(extra)
    return request


def npm_verifier(method: str, public_pem: str) -> SignedFetchVerifier:
    return kit(SIGNATURE_RSA_SHA1 if method == "RSA-SHA1" else SIGNATURE_HMAC_SHA1, public_pem)


@pytest.mark.parametrize("method", NPM_METHODS)
@pytest.mark.parametrize("placement", ["header", "query", "body"])
def test_npm_oauth_1_0a_signatures_verify(
    method: str, placement: str, rsa_private_pem: str, rsa_public_pem: str
) -> None:
    form = {"note": "Grüße & more", "n": "1"}
    get, post = npm_sign(
        [
            npm_request(
                method, rsa_private_pem, placement="query" if placement == "body" else placement
            ),
            npm_request(method, rsa_private_pem, method="POST", placement=placement, form=form),
        ]
    )
    verifier = npm_verifier(method, rsa_public_pem)
    headers = {"Authorization": get["authorization"]} if get["authorization"] else {}
    fetch = verifier.verify("GET", get["url"], headers)
    assert (fetch.user_id, fetch.instance_id) == (USER, INSTANCE)
    assert fetch.signature_method == method
    headers = {"Content-Type": FORM}
    if post["authorization"]:
        headers["Authorization"] = post["authorization"]
    fetch = verifier.verify("POST", post["url"], headers, post["body"].encode("ascii"))
    assert fetch.get("note") == "Grüße & more"
    with pytest.raises(InvalidSignature):
        verifier.verify("PUT", post["url"], headers, post["body"].encode("ascii"))


@pytest.mark.parametrize("method", NPM_METHODS)
def test_npm_oauth_1_0a_body_hash_verifies(
    method: str, rsa_private_pem: str, rsa_public_pem: str
) -> None:
    payload = '{"name": "Jürgen", "tags": ["a", "b"]}'
    (signed,) = npm_sign([npm_request(method, rsa_private_pem, method="POST", body=payload)])
    assert "oauth_body_hash" in signed["authorization"]
    headers = {"Authorization": signed["authorization"], "Content-Type": "application/json"}
    verifier = npm_verifier(method, rsa_public_pem)
    assert verifier.verify("POST", signed["url"], headers, payload.encode()).owner_id == OWNER
    (again,) = npm_sign([npm_request(method, rsa_private_pem, method="POST", body=payload)])
    headers["Authorization"] = again["authorization"]
    with pytest.raises(InvalidSignature):
        verifier.verify("POST", again["url"], headers, payload.replace("a", "b").encode())


def test_npm_oauth_1_0a_signature_under_another_secret_is_refused(rsa_private_pem: str) -> None:
    (signed,) = npm_sign([npm_request("HMAC-SHA1", rsa_private_pem, consumer_secret="other")])
    with pytest.raises(InvalidSignature):
        SignedFetchVerifier({APP_KEY: APP_SECRET}).verify(
            "GET", signed["url"], {"Authorization": signed["authorization"]}
        )

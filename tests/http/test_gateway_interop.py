"""Containers signing with the npm ``oauth-1.0a`` package reach the home server through the
gateway, and the home-server kit verifies what the gateway forwarded."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.homeserver import SignedFetchVerifier
from tests.egress.upstreams import Received, Upstream
from tests.http.conftest import BASE_URL, Start, unique
from tests.http.test_gateway import APP_SECRET, CONTAINER_SECRET, FORM, gateway, home
from tests.peers.oauth1_signer import npm_sign

__all__ = ["home"]  # the fixture, shared with the flow tests

METHODS = ["HMAC-SHA1", "HMAC-SHA256", "RSA-SHA1"]
PLACEMENTS = ["header", "query", "body"]


def kit_verifies(received: Received, port: int) -> Any:
    """What the home-server kit makes of the forwarded request (a SignedFetch)."""
    verifier = SignedFetchVerifier({"planner-key": APP_SECRET})
    return verifier.verify(
        received.method,
        f"http://127.0.0.1:{port}{received.target}",
        dict(received.headers),
        received.body,
    )


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.mark.parametrize("method", METHODS)
async def test_npm_signed_requests_in_every_placement_pass_and_verify_at_home(
    start: Start, home: Upstream, method: str, rsa_keys: tuple[str, str]
) -> None:
    private, public = rsa_keys
    async with gateway(start, home) as gw:
        consumer_key, secret = gw.consumer_key, CONTAINER_SECRET
        if method == "RSA-SHA1":
            consumer_key = unique("npm-rsa")
            registered = await gw.ag.client.put(
                f"/v1/orgs/{gw.org}/signed-fetch/containers/npm-rsa",
                headers=gw.headers,
                json={"consumerKey": consumer_key, "publicKey": public, "instanceId": "npm-inst"},
            )
            assert registered.status_code == 201, registered.text
        base = {
            "consumer_key": consumer_key,
            "consumer_secret": secret,
            "private_key_pem": private,
            "signature_method": method,
        }
        url = f"{BASE_URL}/v1/gateway/{gw.app_id}/notes?opensocial_owner_id=u%2B42&tag=a%2Fb"
        requests = [
            {**base, "method": "POST", "url": url, "placement": p, "form": {"note": "Grüße & co"}}
            for p in PLACEMENTS
        ]
        requests.append(
            {**base, "method": "PUT", "url": url, "placement": "header", "body": '{"n": "☃"}'}
        )
        signed = npm_sign(requests)

        for request, out in zip(requests, signed, strict=True):
            headers = {"Content-Type": FORM if "form" in request else "application/json"}
            if out["authorization"]:
                headers["Authorization"] = out["authorization"]
            response = await gw.ag.client.request(
                request["method"], out["url"], headers=headers, content=out["body"].encode()
            )
            assert response.status_code == 200, (request["placement"], response.text)
            fetch = kit_verifies(gw.last(), home.port)
            instance = "npm-inst" if method == "RSA-SHA1" else gw.instance_id
            assert (fetch.user_id, fetch.instance_id) == ("u+42", instance)
            assert fetch.app_id == gw.app_id
            assert fetch.get("tag") == "a/b"
            if "form" in request:
                assert fetch.get("note") == "Grüße & co"
            else:
                assert gw.last().body == '{"n": "☃"}'.encode()


async def test_an_npm_signature_with_another_secret_is_refused(
    start: Start, home: Upstream
) -> None:
    async with gateway(start, home) as gw:
        url = f"{BASE_URL}/v1/gateway/{gw.app_id}/x?opensocial_owner_id=1"
        (signed,) = npm_sign(
            [
                {
                    "consumer_key": gw.consumer_key,
                    "consumer_secret": CONTAINER_SECRET + "-other",
                    "signature_method": "HMAC-SHA1",
                    "method": "GET",
                    "url": url,
                    "placement": "header",
                }
            ]
        )
        response = await gw.ag.client.get(
            signed["url"], headers={"Authorization": signed["authorization"]}
        )
        assert response.status_code == 401
        assert home.received == []

"""Discovery documents, the JWKS, the OpenAPI description, health and metrics."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from tests.http.conftest import BASE_URL, Authgate

ENDPOINT_KEYS = ("token_endpoint", "revocation_endpoint", "introspection_endpoint")


async def test_both_discovery_documents_agree(ag: Authgate) -> None:
    openid = await ag.client.get("/.well-known/openid-configuration")
    oauth = await ag.client.get("/.well-known/oauth-authorization-server")
    assert openid.status_code == oauth.status_code == 200
    assert openid.json() == oauth.json()
    document = openid.json()
    assert document["issuer"] == BASE_URL
    assert set(document["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert "password" not in document["grant_types_supported"]
    assert "implicit" not in document["grant_types_supported"]
    assert document["id_token_signing_alg_values_supported"] == ["EdDSA", "RS256"]
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_response_iss_parameter_supported"] is True
    for key in (*ENDPOINT_KEYS, "jwks_uri"):
        assert document[key].startswith(BASE_URL + "/"), key


async def test_every_listed_endpoint_answers(ag: Authgate) -> None:
    document = (await ag.client.get("/.well-known/openid-configuration")).json()
    urls = {key: value for key, value in document.items() if key.endswith(("_endpoint", "_uri"))}
    assert set(ENDPOINT_KEYS) <= set(urls)
    for key, url in urls.items():
        path = urlsplit(url).path
        method = "GET" if key == "jwks_uri" else "POST"
        response = await ag.client.request(method, path)
        assert response.status_code != 404, (key, url)
        assert response.status_code != 405, (key, url)
        assert response.status_code < 500, (key, url)


async def test_jwks_publishes_public_ed25519_and_rsa_keys_only(ag: Authgate) -> None:
    response = await ag.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    # Ed25519 signs access tokens (EdDSA), RSA signs ID tokens for relying parties (RS256).
    assert sorted(key["alg"] for key in keys) == ["EdDSA", "RS256"]
    for key in keys:
        assert key["kid"]
        assert key["use"] == "sig"
        if key["alg"] == "EdDSA":
            assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
            assert (key["kty"], key["crv"]) == ("OKP", "Ed25519")
        else:
            assert set(key) == {"kty", "n", "e", "kid", "use", "alg"}
            assert key["kty"] == "RSA"


async def test_openapi_describes_the_api(ag: Authgate) -> None:
    response = await ag.client.get("/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/v1/auth/login",
        "/v1/auth/register",
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/introspect",
        "/v1/orgs/{org}/members",
        "/v1/orgs/{org}/clients",
    ):
        assert path in paths, path
    assert "/metrics" not in paths


async def test_health_readiness_and_metrics(ag: Authgate) -> None:
    health = await ag.client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    ready = await ag.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}
    await ag.token({"grant_type": "nonsense"})
    metrics = await ag.client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    lines = [line for line in metrics.text.splitlines() if not line.startswith("#")]
    assert any(line.startswith("authgate_http_requests_total{") for line in lines)
    assert any('route="/healthz"' in line and 'status="200"' in line for line in lines)
    assert any('route="/oauth/token"' in line and 'status="400"' in line for line in lines)

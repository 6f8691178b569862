"""The lean call path answers bad input the way the FastAPI routes do: a clear 4xx."""

from __future__ import annotations

import pytest

from authgate.http.call_endpoint import call_target
from tests.http.conftest import Authgate, basic, bearer

URL = "/v1/solutions/crm/functions/list:call"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1/solutions/crm/functions/list:call", ("crm", "list")),
        ("/v1/solutions/crm/functions/a:b:call", ("crm", "a:b")),
        ("/v1/solutions/crm/functions/:call", None),
        ("/v1/solutions//functions/list:call", None),
        ("/v1/solutions/crm/function/list:call", None),
        ("/v1/solutions/crm/x/functions/list:call", None),
        ("/v1/solutions/crm/functions/list/more:call", None),
        ("/v1/solutions/crm/functions/list:calls", None),
        ("/v1/solutionscrm/functions/list:call", None),
    ],
)
def test_only_the_call_route_is_recognised(path: str, expected: tuple[str, str] | None) -> None:
    assert call_target(path) == expected


async def owner_token(ag: Authgate) -> dict[str, str]:
    _, owner = await ag.org_with_owner()
    return bearer((await ag.login(owner.email))["access_token"])


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be an object"),
        (b'{"parameters": [1]}', "application/json", "parameters: must be an object"),
        (b'{"parameters": {}, "extra": 1}', "application/json", "extra: extra fields"),
        (b'{"parameters": {}}', "text/plain", "must be JSON"),
    ],
)
async def test_bad_bodies_get_a_validation_error(
    ag: Authgate, content: bytes, content_type: str, problem: str
) -> None:
    headers = await owner_token(ag)
    response = await ag.client.post(
        URL, content=content, headers={**headers, "content-type": content_type}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert problem in error["message"]


async def test_a_missing_solution_is_404_after_a_valid_body(ag: Authgate) -> None:
    headers = await owner_token(ag)
    response = await ag.client.post(URL, json={"parameters": {"x": 1}}, headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.headers["cache-control"] == "no-store"


async def test_no_token_and_bad_tokens_are_401_with_a_challenge(ag: Authgate) -> None:
    for headers in ({}, bearer("nonsense"), {"authorization": "Basic eDp5"}):
        response = await ag.client.post(URL, json={"parameters": {}}, headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_service_clients_token_is_refused(ag: Authgate) -> None:
    org, owner = await ag.org_with_owner()
    admin = bearer((await ag.login(owner.email))["access_token"])
    created = await ag.client.post(
        f"/v1/orgs/{org.slug}/clients", headers=admin, json={"name": "etl", "scopes": "read"}
    )
    client = created.json()
    grant = await ag.token(
        {"grant_type": "client_credentials"}, basic(client["client_id"], client["client_secret"])
    )
    service = bearer(grant.json()["access_token"])
    response = await ag.client.post(URL, json={"parameters": {}}, headers=service)
    assert response.status_code == 401
    assert "service client" in response.json()["error"]["message"]


async def test_an_oversized_body_is_413(ag: Authgate) -> None:
    headers = await owner_token(ag)
    big = b'{"parameters": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
    response = await ag.client.post(
        URL, content=big, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 413


async def test_the_route_is_documented_and_measured(ag: Authgate) -> None:
    headers = await owner_token(ag)
    await ag.client.post(URL, json={"parameters": {}}, headers=headers)
    openapi = (await ag.client.get("/openapi.json")).json()
    assert "/v1/solutions/{solution}/functions/{function}:call" in openapi["paths"]
    metrics = (await ag.client.get("/metrics")).text
    assert 'route="/v1/solutions/{solution}/functions/{function}:call"' in metrics


async def test_an_ended_session_is_refused_whether_or_not_the_solution_exists(
    ag: Authgate,
) -> None:
    org, owner = await ag.org_with_owner()
    tokens = await ag.login(owner.email)
    headers = bearer(tokens["access_token"])
    folder = {
        "solution.yaml": "name: crm\n",
        "functions/list.yaml": "provider: DATA_PROVIDER_REST\nmethod: GET\n"
        "url: https://api.crm.example/items\n",
    }
    published = await ag.client.put(
        f"/v1/orgs/{org.slug}/solutions/crm", headers=headers, json={"files": folder}
    )
    assert published.status_code == 200, published.text
    assert (await ag.client.post("/v1/auth/logout", headers=headers)).status_code == 204

    for url in (URL, "/v1/solutions/missing/functions/list:call"):
        response = await ag.client.post(url, json={"parameters": {}}, headers=headers)
        assert response.status_code == 401, url
        assert "session" in response.json()["error"]["message"]

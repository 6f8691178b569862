"""Per-user OAuth connections through authgate's routes, against a real OAuth provider
(npm oidc-provider): consent with state and PKCE, the callback, listing, forgetting, and
the attacks on the state (replayed, forged, another user's, an error callback)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio

from authgate.identity.models import Role
from tests.http.conftest import Authgate, bearer, running
from tests.peers.connections import (
    CLIENT_ID,
    CLIENT_SECRET,
    CREDENTIAL,
    REDIRECT_URI,
    Tenant,
    tenant,
)
from tests.peers.oauth_provider import OAuthProvider, start_provider

EGRESS = {"egress_allowed_hosts": ("127.0.0.1",)}


@pytest_asyncio.fixture
async def provider() -> AsyncIterator[OAuthProvider]:
    async with start_provider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI
    ) as running_provider:
        yield running_provider


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, **EGRESS) as instance:
        yield instance


@pytest_asyncio.fixture
async def acme(ag: Authgate, provider: OAuthProvider) -> Tenant:
    return await tenant(ag, provider)


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


async def test_the_consent_loop_ends_in_a_stored_connection_listed_without_tokens(
    acme: Tenant, provider: OAuthProvider
) -> None:
    page = await acme.connect(acme.owner)

    assert "Account connected" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert await provider.grants("authorization_code") == 1
    [connection] = await acme.connections(acme.owner)
    assert connection["name"] == CREDENTIAL
    assert connection["solution"] is None
    assert connection["status"] == "active"
    assert set(connection["scopes"]) >= {"openid", "offline_access", "crm.read"}
    assert connection["expiresAt"] is not None
    assert set(connection) == {
        "name",
        "solution",
        "status",
        "scopes",
        "expiresAt",
        "connectedAt",
        "updatedAt",
    }


async def test_authorize_answers_the_providers_url_with_state_and_pkce(acme: Tenant) -> None:
    response = await acme.authorize(acme.owner)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    url = response.json()["authorizationUrl"]
    assert url.startswith(acme.provider.authorize_url + "?")
    query = query_of(url)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32
    assert query["scope"] == "openid offline_access crm.read"
    assert query["prompt"] == "consent"
    assert CLIENT_SECRET not in response.text
    again = query_of((await acme.authorize(acme.owner)).json()["authorizationUrl"])
    assert again["state"] != query["state"]
    assert again["code_challenge"] != query["code_challenge"]


async def test_a_browser_accepting_html_is_redirected_to_the_provider(acme: Tenant) -> None:
    response = await acme.ag.client.get(
        f"/v1/connections/{CREDENTIAL}/authorize",
        headers={**acme.owner, "accept": "text/html,application/xhtml+xml"},
    )

    assert response.status_code == 302
    assert response.headers["location"].startswith(acme.provider.authorize_url + "?")
    assert response.headers["cache-control"] == "no-store"


async def test_a_replayed_callback_is_refused(acme: Tenant, provider: OAuthProvider) -> None:
    callback = await acme.consent(acme.owner)
    assert (await acme.ag.client.get(callback)).status_code == 200

    replayed = await acme.ag.client.get(callback)

    assert replayed.status_code == 400
    assert "already used" in replayed.text
    assert replayed.headers["referrer-policy"] == "no-referrer"
    assert await provider.grants("authorization_code") == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda state: secrets.token_urlsafe(32), id="random"),
        pytest.param(lambda state: state[:-1], id="truncated"),
        pytest.param(lambda state: state + "A", id="extended"),
        pytest.param(lambda state: state[:-1] + ("A" if state[-1] != "A" else "B"), id="flipped"),
        pytest.param(lambda state: state.upper(), id="case"),
        pytest.param(lambda state: " " + state, id="space"),
        pytest.param(lambda state: state + "\x00", id="nul"),
        pytest.param(lambda state: "x" * 513, id="too-long"),
    ],
)
async def test_a_forged_state_is_refused(acme: Tenant, provider: OAuthProvider, forge: Any) -> None:
    callback = await acme.consent(acme.owner)
    query = query_of(callback)

    forged = await acme.ag.client.get(
        "/v1/connections/callback", params={"state": forge(query["state"]), "code": query["code"]}
    )

    assert forged.status_code == 400, forged.text
    assert await acme.connections(acme.owner) == []
    assert await provider.grants("authorization_code") == 0
    # The real state still works: a forgery spends nothing.
    assert (await acme.ag.client.get(callback)).status_code == 200


async def test_another_users_state_is_refused_to_a_caller_who_shows_who_they_are(
    acme: Tenant, provider: OAuthProvider
) -> None:
    bob = await acme.member(Role.USER)
    alice = await acme.member(Role.USER)
    bobs_callback = await acme.consent(bob)

    refused = await acme.ag.client.get(bobs_callback, headers=alice)

    assert refused.status_code == 400
    assert "another user" in refused.text
    assert await acme.connections(alice) == []
    assert await acme.connections(bob) == []
    assert await provider.grants("authorization_code") == 0


async def test_a_browser_callback_connects_only_the_user_who_started(acme: Tenant) -> None:
    bob = await acme.member(Role.USER)
    alice = await acme.member(Role.USER)

    await acme.connect(bob)

    assert [c["name"] for c in await acme.connections(bob)] == [CREDENTIAL]
    assert await acme.connections(alice) == []
    assert await acme.connections(acme.owner) == []


async def test_a_refusal_at_the_provider_ends_cleanly_and_spends_the_state(
    acme: Tenant, provider: OAuthProvider
) -> None:
    callback = await acme.consent(acme.owner, deny=True)
    query = query_of(callback)
    assert query["error"] == "access_denied"

    refused = await acme.ag.client.get(callback)

    assert refused.status_code == 403
    assert "did not allow access" in refused.text
    assert refused.headers["referrer-policy"] == "no-referrer"
    assert await acme.connections(acme.owner) == []
    late = await acme.ag.client.get(
        "/v1/connections/callback", params={"state": query["state"], "code": "any-code"}
    )
    assert late.status_code == 400
    assert await provider.grants("authorization_code") == 0


@pytest.mark.parametrize(
    ("params", "status", "shown"),
    [
        ({"error": "server_error"}, 400, "try again later"),
        ({"error": "invalid_scope", "state": "unknown"}, 400, "invalid_scope"),
        ({"error": "<script>alert(1)</script>"}, 400, "answered with an error"),
        ({"error": "access_denied", "error_description": "<b>canary-description</b>"}, 403, ""),
        ({}, 400, "state and code"),
        ({"state": "only-state"}, 400, "state and code"),
        ({"code": "only-code"}, 400, "state and code"),
        ({"state": "s", "code": "c" * 4097}, 400, "too long"),
    ],
)
async def test_bad_callbacks_get_a_clear_page_that_repeats_nothing(
    ag: Authgate, params: dict[str, str], status: int, shown: str
) -> None:
    response = await ag.client.get("/v1/connections/callback", params=params)

    assert response.status_code == status
    assert shown in response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "<script>" not in response.text
    assert "canary-description" not in response.text


async def test_forgetting_a_connection_removes_it(acme: Tenant) -> None:
    await acme.connect(acme.owner)

    deleted = await acme.ag.client.delete(f"/v1/connections/{CREDENTIAL}", headers=acme.owner)

    assert deleted.status_code == 204
    assert await acme.connections(acme.owner) == []
    again = await acme.ag.client.delete(f"/v1/connections/{CREDENTIAL}", headers=acme.owner)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"


async def test_another_organizations_credential_is_not_found(
    ag: Authgate, acme: Tenant, provider: OAuthProvider
) -> None:
    other = await tenant(ag, provider, name="other.oauth")
    await acme.connect(acme.owner)

    for path in ("/v1/connections/other.oauth/authorize", "/v1/connections/other.oauth"):
        method = "GET" if path.endswith("authorize") else "DELETE"
        response = await ag.client.request(method, path, headers=acme.owner)
        assert response.status_code == 404, (path, response.text)
    assert await acme.connections(other.owner) == []
    deleted = await ag.client.delete(f"/v1/connections/{CREDENTIAL}", headers=other.owner)
    assert deleted.status_code == 404
    assert len(await acme.connections(acme.owner)) == 1


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/v1/connections/missing.oauth/authorize", 404, "not_found"),
        ("/v1/connections/crm.plain/authorize", 400, "credential_not_usable"),
        ("/v1/connections/bad%20name/authorize", 422, "invalid_credential"),
        (f"/v1/connections/{'n' * 129}/authorize", 422, "validation_failed"),
        (f"/v1/connections/{CREDENTIAL}/authorize?solution=", 422, "validation_failed"),
        (f"/v1/connections/{CREDENTIAL}/authorize?solution=a%2Fb", 422, "invalid_credential"),
        (f"/v1/connections/{CREDENTIAL}/authorize?solution={'s' * 129}", 422, "validation_failed"),
        ("/v1/connections/missing.oauth/authorize?solution=crm", 404, "not_found"),
    ],
)
async def test_bad_input_gets_a_clear_4xx(acme: Tenant, path: str, status: int, code: str) -> None:
    plain = await acme.ag.client.put(
        f"/v1/orgs/{acme.slug}/credentials/crm.plain",
        headers=acme.owner,
        json={"kind": "bearer_token", "value": "v", "allowedHosts": ["127.0.0.1"]},
    )
    assert plain.status_code == 201

    response = await acme.ag.client.get(path, headers=acme.owner)

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/connections"),
        ("GET", f"/v1/connections/{CREDENTIAL}/authorize"),
        ("DELETE", f"/v1/connections/{CREDENTIAL}"),
    ],
)
async def test_the_users_routes_need_a_users_token(acme: Tenant, method: str, path: str) -> None:
    anonymous = await acme.ag.client.request(method, path)
    forged = await acme.ag.client.request(method, path, headers=bearer("not.a.token"))

    assert anonymous.status_code == 401
    assert forged.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_a_solution_scoped_credential_is_connected_with_its_solution(
    ag: Authgate, provider: OAuthProvider
) -> None:
    scoped = await tenant(ag, provider, solution="crm")

    unscoped = await scoped.authorize(scoped.owner)
    assert unscoped.status_code == 404
    await scoped.connect(scoped.owner, solution="crm")

    [connection] = await scoped.connections(scoped.owner)
    assert (connection["name"], connection["solution"]) == (CREDENTIAL, "crm")


async def test_client_secret_post_authenticates_in_the_body(tmp_path: Path) -> None:
    async with (
        start_provider(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT_URI,
            token_auth="client_secret_post",
        ) as post_provider,
        running(tmp_path, **EGRESS) as instance,
    ):
        acme = await tenant(instance, post_provider, tokenEndpointAuthMethod="client_secret_post")
        await acme.connect(acme.owner)

        assert await post_provider.grants("authorization_code") == 1
        assert [c["status"] for c in await acme.connections(acme.owner)] == ["active"]


async def test_a_client_secret_the_provider_refuses_is_an_administrators_problem(
    ag: Authgate, provider: OAuthProvider
) -> None:
    wrong = await tenant(ag, provider, clientSecret="not-the-secret")
    callback = await wrong.consent(wrong.owner)

    page = await ag.client.get(callback)

    assert page.status_code == 502
    assert "clientSecret" in page.text
    assert await wrong.connections(wrong.owner) == []
    assert (await provider.errors()).get("invalid_client") == 1


async def test_connections_are_listed_and_forgotten_on_every_backend(
    tmp_path: Path, backend_overrides: dict[str, Any], provider: OAuthProvider
) -> None:
    async with running(tmp_path, **EGRESS, **backend_overrides) as instance:
        acme = await tenant(instance, provider)
        other = await tenant(instance, provider, name="other.oauth")
        await acme.connect(acme.owner)
        await other.connect(other.owner, "other.oauth")

        [connection] = await acme.connections(acme.owner)
        assert connection["name"] == CREDENTIAL
        forgotten = await instance.client.delete(
            f"/v1/connections/{CREDENTIAL}", headers=acme.owner
        )
        assert forgotten.status_code == 204
        assert await acme.connections(acme.owner) == []
        assert [c["name"] for c in await other.connections(other.owner)] == ["other.oauth"]

"""Grants of third-party apps over HTTP: a person lists and withdraws their consents, an
app's organization admins list and withdraw its grants, and a withdrawn grant's refresh
tokens stop working at once. MAKER and USER get 403, another organization's admin 404."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from authgate.identity.deps import Actor
from authgate.identity.models import Organization, Role, User
from authgate.provider.models import OAuthClient
from tests.http.conftest import Authgate, bearer
from tests.http.provider_support import register


@dataclass
class Setup:
    org: Organization
    owner: User
    person: User
    app: OAuthClient
    tokens: dict[str, dict[str, Any]]
    """Device-session tokens by role name (``owner``, ``person``, ``maker``, ``user``)."""

    def auth(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who]["access_token"])


async def register_app(
    ag: Authgate, org: Organization, name: str, logo: str | None = None
) -> OAuthClient:
    """A public app of ``org`` named ``name``, stored directly."""
    app = replace((await register(ag, org, public=True)).client, name=name, logo_uri=logo)
    await ag.services.deps.store.oauth_clients.update(app)  # type: ignore[attr-defined]
    return app


async def app_session(ag: Authgate, org: Organization, user: User, app: OAuthClient) -> str:
    """A session of ``app`` for ``user`` (as a code exchange starts one); its refresh token."""
    membership = await ag.services.deps.store.memberships.get(org.id, user.id)
    assert membership is not None
    tokens = await ag.services.sessions.start(
        user, org, membership, Actor(None), client_id=app.client_id, scope="openid offline_access"
    )
    assert tokens.refresh_token is not None
    return tokens.refresh_token


async def allow(ag: Authgate, user: User, app: OAuthClient, scope: str) -> None:
    """The person allows the app (as the consent page does)."""
    assert ag.services.consents is not None
    await ag.services.consents.remember(user.id, app, scope)


@pytest.fixture
async def setup(ag: Authgate) -> Setup:
    org, owner = await ag.org_with_owner()
    person = await ag.user(f"person@{org.slug}.test", name="Pat Person")
    await ag.member(org, person, Role.USER)
    tokens = {"owner": await ag.login(owner.email), "person": await ag.login(person.email)}
    for role in (Role.MAKER, Role.USER):
        someone = await ag.user(f"{role.value.lower()}@{org.slug}.test")
        await ag.member(org, someone, role)
        tokens[role.value.lower()] = await ag.login(someone.email)
    app = await register_app(ag, org, "Planner", "https://planner.example/logo.png")
    return Setup(org, owner, person, app, tokens)


async def test_a_person_lists_the_apps_they_allowed(ag: Authgate, setup: Setup) -> None:
    atlas = await register_app(ag, setup.org, "Atlas")
    await allow(ag, setup.person, setup.app, "openid email")
    await allow(ag, setup.person, atlas, "openid")
    ag.clock.advance(60)
    await allow(ag, setup.person, setup.app, "profile")
    await allow(ag, setup.owner, setup.app, "openid")  # someone else's consent is not listed

    response = await ag.client.get("/v1/me/consents", headers=setup.auth("person"))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    listed = response.json()
    assert [(a["client_id"], a["name"], a["logo_uri"], a["scopes"]) for a in listed] == [
        (atlas.client_id, "Atlas", None, ["openid"]),
        (
            setup.app.client_id,
            "Planner",
            "https://planner.example/logo.png",
            ["email", "openid", "profile"],
        ),
    ]
    planner = listed[1]
    assert planner["updated_at"] > planner["granted_at"]
    empty = await ag.client.get("/v1/me/consents", headers=setup.auth("maker"))
    assert empty.json() == []


async def test_withdrawing_a_consent_ends_the_apps_sessions_for_that_person(
    ag: Authgate, setup: Setup
) -> None:
    await allow(ag, setup.person, setup.app, "openid offline_access")
    await allow(ag, setup.owner, setup.app, "openid offline_access")
    refresh = await app_session(ag, setup.org, setup.person, setup.app)
    owners = await app_session(ag, setup.org, setup.owner, setup.app)
    rotated = await ag.refresh(refresh, client_id=setup.app.client_id)
    assert rotated.status_code == 200, rotated.text  # the session works until the withdrawal
    refresh = rotated.json()["refresh_token"]

    response = await ag.client.delete(
        f"/v1/me/consents/{setup.app.client_id}", headers=setup.auth("person")
    )

    assert response.status_code == 204, response.text
    refused = await ag.refresh(refresh, client_id=setup.app.client_id)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    still = await ag.refresh(owners, client_id=setup.app.client_id)
    assert still.status_code == 200, still.text
    assert (await ag.client.get("/v1/me/consents", headers=setup.auth("person"))).json() == []
    again = await ag.client.delete(
        f"/v1/me/consents/{setup.app.client_id}", headers=setup.auth("person")
    )
    assert (again.status_code, again.json()["error"]["code"]) == (404, "not_found")


async def test_an_admin_lists_and_withdraws_an_apps_grants(ag: Authgate, setup: Setup) -> None:
    await allow(ag, setup.person, setup.app, "openid email")
    await allow(ag, setup.owner, setup.app, "openid")
    refresh = await app_session(ag, setup.org, setup.person, setup.app)
    grants = f"/v1/orgs/{setup.org.slug}/oauth-clients/{setup.app.client_id}/grants"

    listed = await ag.client.get(grants, headers=setup.auth("owner"))

    assert listed.status_code == 200, listed.text
    assert [(g["user_id"], g["email"], g["display_name"], g["scopes"]) for g in listed.json()] == [
        (setup.owner.id, setup.owner.email, "Owner", ["openid"]),
        (setup.person.id, setup.person.email, "Pat Person", ["email", "openid"]),
    ]
    response = await ag.client.delete(f"{grants}/{setup.person.id}", headers=setup.auth("owner"))
    assert response.status_code == 204, response.text
    refused = await ag.refresh(refresh, client_id=setup.app.client_id)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    left = await ag.client.get(grants, headers=setup.auth("owner"))
    assert [g["user_id"] for g in left.json()] == [setup.owner.id]
    again = await ag.client.delete(f"{grants}/{setup.person.id}", headers=setup.auth("owner"))
    assert again.status_code == 404


@pytest.mark.parametrize("who", ["maker", "user", "person"])
async def test_makers_and_users_may_not_see_or_withdraw_grants(
    ag: Authgate, setup: Setup, who: str
) -> None:
    await allow(ag, setup.person, setup.app, "openid")
    grants = f"/v1/orgs/{setup.org.slug}/oauth-clients/{setup.app.client_id}/grants"

    listed = await ag.client.get(grants, headers=setup.auth(who))
    withdrawn = await ag.client.delete(f"{grants}/{setup.person.id}", headers=setup.auth(who))

    for response in (listed, withdrawn):
        assert (response.status_code, response.json()["error"]["code"]) == (403, "forbidden")
    assert await ag.services.deps.store.consents.get(setup.person.id, setup.app.client_id)  # type: ignore[attr-defined]


async def test_another_organizations_admin_and_unknown_apps_get_404(
    ag: Authgate, setup: Setup
) -> None:
    await allow(ag, setup.person, setup.app, "openid")
    other, stranger = await ag.org_with_owner("other")
    theirs = await register_app(ag, other, "Theirs")
    stranger_auth = bearer((await ag.login(stranger.email))["access_token"])
    cases = [
        # another organization's admin, naming this organization or their own
        (setup.org.slug, setup.app.client_id, stranger_auth),
        (other.slug, setup.app.client_id, stranger_auth),
        # this organization's owner, naming another organization's app or none
        (setup.org.slug, theirs.client_id, setup.auth("owner")),
        (setup.org.slug, "app-unknown", setup.auth("owner")),
    ]
    for slug, client_id, auth in cases:
        grants = f"/v1/orgs/{slug}/oauth-clients/{client_id}/grants"
        listed = await ag.client.get(grants, headers=auth)
        withdrawn = await ag.client.delete(f"{grants}/{setup.person.id}", headers=auth)
        for response in (listed, withdrawn):
            assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    mine = await ag.client.delete("/v1/me/consents/app-unknown", headers=setup.auth("person"))
    assert mine.status_code == 404
    assert await ag.services.deps.store.consents.get(setup.person.id, setup.app.client_id)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/me/consents/" + "a" * 129,
        "/v1/orgs/acme/oauth-clients/" + "a" * 129 + "/grants",
        "/v1/orgs/acme/oauth-clients/app/grants/" + "u" * 65,
    ],
)
async def test_overlong_ids_get_a_clear_4xx(ag: Authgate, setup: Setup, path: str) -> None:
    method = "GET" if path.endswith("/grants") else "DELETE"
    response = await ag.client.request(method, path, headers=setup.auth("owner"))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


async def test_grants_need_a_users_access_token(ag: Authgate, setup: Setup) -> None:
    for method, path in (
        ("GET", "/v1/me/consents"),
        ("DELETE", f"/v1/me/consents/{setup.app.client_id}"),
        ("GET", f"/v1/orgs/{setup.org.slug}/oauth-clients/{setup.app.client_id}/grants"),
    ):
        response = await ag.client.request(method, path)
        assert response.status_code == 401, path

"""Brokered SSO against a real OpenID provider (npm oidc-provider, Okta-like): the loop from
the app's start to authgate's tokens, provisioning modes, and what happens to people whose
email already has an account."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from authgate.identity.models import Role
from tests.http.conftest import PASSWORD, Authgate, bearer, running
from tests.peers.oidc_idp import Idp, start_idp
from tests.peers.sso import (
    APP_REDIRECT,
    CLIENT_SECRET,
    AppLogin,
    SsoOrg,
    idp_clients,
    person,
    pkce,
    query_of,
    unique_login,
    with_okta,
)

EGRESS = {"egress_allowed_hosts": ("127.0.0.1",)}


@pytest_asyncio.fixture(scope="module")
async def idp() -> AsyncIterator[Idp]:
    async with start_idp("okta", idp_clients()) as running_idp:
        yield running_idp


@pytest_asyncio.fixture
async def ag(tmp_path: Path) -> AsyncIterator[Authgate]:
    async with running(tmp_path, **EGRESS) as instance:
        yield instance


@pytest_asyncio.fixture
async def acme(ag: Authgate, idp: Idp) -> SsoOrg:
    return await with_okta(ag, idp)


async def test_a_brokered_login_ends_in_authgate_tokens_for_a_new_user(acme: SsoOrg) -> None:
    login = await person(acme, unique_login("ada"), name="Ada Lovelace")
    app, answer = await acme.to_app(login)

    assert set(answer) == {"code", "state", "iss"}
    assert answer["state"] == app.state
    assert answer["iss"] == "http://testserver"
    response = await acme.redeem(app, answer["code"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["organization"] == acme.slug
    me = await acme.ag.me(tokens["access_token"])
    assert me.status_code == 200, me.text
    user = await acme.ag.services.deps.store.users.get_by_email(acme.email(login))
    assert user is not None
    assert user.display_name == "Ada Lovelace"
    assert user.password_hash is None
    assert user.email_verified
    role = await acme.ag.services.deps.store.memberships.active_role(acme.org.id, user.id)
    assert role is Role.USER
    refreshed = await acme.ag.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text


async def test_the_same_idp_account_signs_in_as_the_same_user(acme: SsoOrg) -> None:
    login = await person(acme, unique_login("bo"))
    first = await acme.sign_in(login)
    second = await acme.sign_in(login)

    first_me = (await acme.ag.me(first["access_token"])).json()
    second_me = (await acme.ag.me(second["access_token"])).json()
    assert first_me["id"] == second_me["id"]


async def test_concurrent_first_logins_of_one_person_both_succeed(acme: SsoOrg) -> None:
    login = await person(acme, unique_login("twice"))
    first, first_callback = await acme.to_callback(login)
    second, second_callback = await acme.to_callback(login)

    answers = await asyncio.gather(
        acme.ag.client.get(first_callback), acme.ag.client.get(second_callback)
    )

    codes = [query_of(answer.headers["location"]).get("code") for answer in answers]
    assert all(codes), [answer.headers["location"] for answer in answers]
    tokens = [
        await acme.redeem(app, code) for app, code in zip((first, second), codes, strict=True)
    ]
    ids = {(await acme.ag.me(t.json()["access_token"])).json()["id"] for t in tokens}
    assert len(ids) == 1


async def test_the_idp_gets_state_nonce_and_pkce_of_authgates_own(acme: SsoOrg) -> None:
    app, url = await acme.start(login_hint="ada@example.test")

    assert url.startswith(acme.idp.issuer + "/auth?")
    query = query_of(url)
    assert query["client_id"] == "authgate-sso"
    assert query["redirect_uri"] == "http://testserver/v1/sso/callback"
    assert query["response_type"] == "code"
    assert query["scope"] == "openid email profile"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert query["code_challenge"] != app.challenge
    assert query["state"] != app.state
    assert len(query["state"]) >= 40
    assert len(query["nonce"]) >= 40
    assert query["login_hint"] == "ada@example.test"
    _, again = await acme.start()
    assert query_of(again)["state"] != query["state"]
    assert query_of(again)["nonce"] != query["nonce"]


async def test_json_callers_get_the_authorization_url(acme: SsoOrg) -> None:
    response = await acme.ag.client.get(
        AppLogin(*pkce()).start_path(acme.idp_id), headers={"accept": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["authorizationUrl"].startswith(acme.idp.issuer + "/auth?")


async def test_auto_provisioning_assigns_the_configured_solutions(acme: SsoOrg) -> None:
    files = {"solution.yaml": "name: crm\n"}
    published = await acme.ag.client.put(
        f"/v1/orgs/{acme.slug}/solutions/crm", headers=acme.owner, json={"files": files}
    )
    assert published.status_code == 200, published.text
    await acme.settings(solutions=["crm", "missing"])
    login = await person(acme, unique_login("cy"))

    tokens = await acme.sign_in(login)

    definition = await acme.ag.client.get(
        "/v1/solutions/crm/definition", headers=bearer(tokens["access_token"])
    )
    assert definition.status_code == 200, definition.text


async def test_invite_only_admits_the_invited_with_their_role(acme: SsoOrg) -> None:
    await acme.settings(provisioning="invite_only")
    stranger = await person(acme, unique_login("stranger"))
    invited = await person(acme, unique_login("invited"))
    sent = await acme.ag.client.post(
        f"/v1/orgs/{acme.slug}/invites",
        headers=acme.owner,
        json={"email": acme.email(invited), "role": "MAKER"},
    )
    assert sent.status_code == 201, sent.text

    _, refused = await acme.to_app(stranger)
    assert refused["error"] == "access_denied"
    assert refused["error_code"] == "sso_not_invited"
    assert "code" not in refused
    store = acme.ag.services.deps.store
    assert await store.users.get_by_email(acme.email(stranger)) is None
    tokens = await acme.sign_in(invited)
    me = (await acme.ag.me(tokens["access_token"])).json()
    user = await store.users.get_by_email(acme.email(invited))
    assert user is not None
    assert me["id"] == user.id
    assert await store.memberships.active_role(acme.org.id, user.id) is Role.MAKER
    [invite] = await store.invites.list_for_org(acme.org.id)
    assert invite.accepted_at is not None


async def test_request_access_files_a_join_request_approved_by_an_admin(acme: SsoOrg) -> None:
    await acme.settings(provisioning="request_access")
    login = await person(acme, unique_login("req"))

    _, pending = await acme.to_app(login)
    assert pending["error_code"] == "sso_access_requested"
    _, again = await acme.to_app(login)
    assert again["error_code"] == "sso_access_requested"
    listed = await acme.ag.client.get(f"/v1/orgs/{acme.slug}/join-requests", headers=acme.owner)
    [request] = listed.json()
    approved = await acme.ag.client.post(
        f"/v1/orgs/{acme.slug}/join-requests/{request['id']}/decision",
        headers=acme.owner,
        json={"approve": True},
    )
    assert approved.status_code == 200, approved.text

    tokens = await acme.sign_in(login)
    assert (await acme.ag.me(tokens["access_token"])).status_code == 200


async def test_an_email_claim_never_signs_in_as_an_existing_account(acme: SsoOrg) -> None:
    victim = await acme.ag.user(acme.email(unique_login("victim")))
    await acme.ag.member(acme.org, victim, Role.ADMIN)
    attacker = await person(acme, unique_login("attacker"), email=victim.email)

    _, refused = await acme.to_app(attacker)

    assert refused["error_code"] == "sso_account_exists"
    assert "code" not in refused
    identities = await acme.ag.services.deps.store.federation.list_identities(victim.id)
    assert identities == []
    # The victim's own sign-in is untouched.
    assert (await acme.ag.login_response(victim.email)).status_code == 200


async def test_an_existing_account_links_its_idp_account_after_proving_its_password(
    acme: SsoOrg,
) -> None:
    owner_email = acme.email(unique_login("linker"))
    user = await acme.ag.user(owner_email)
    await acme.ag.member(acme.org, user, Role.USER)
    login = await person(acme, unique_login("linked"), email=owner_email)
    session = await acme.ag.login(owner_email, PASSWORD)

    started = await acme.ag.client.get(
        f"/v1/sso/link?idp={acme.idp_id}", headers=bearer(session["access_token"])
    )
    assert started.status_code == 200, started.text
    back = await acme.idp.sign_in(started.json()["authorizationUrl"], login)
    page = await acme.ag.client.get(back.removeprefix("http://testserver"))
    assert page.status_code == 200, page.text
    assert "linked" in page.text

    tokens = await acme.sign_in(login)
    me = (await acme.ag.me(tokens["access_token"])).json()
    assert me["id"] == user.id


async def test_an_unverified_email_claim_provisions_nobody(acme: SsoOrg) -> None:
    login = await person(acme, unique_login("unverified"), email_verified=False)

    _, refused = await acme.to_app(login)

    assert refused["error_code"] == "sso_access_denied"
    assert await acme.ag.services.deps.store.users.get_by_email(acme.email(login)) is None


async def test_an_email_of_another_domain_is_not_provisioned(acme: SsoOrg) -> None:
    login = await person(acme, unique_login("outsider"), email="someone@elsewhere.test")

    _, refused = await acme.to_app(login)

    assert refused["error_code"] == "sso_domain_not_allowed"
    assert await acme.ag.services.deps.store.users.get_by_email("someone@elsewhere.test") is None


async def test_an_idp_refusal_reaches_the_app_as_an_error(acme: SsoOrg) -> None:
    app, _ = await acme.start()
    # The IdP's own answer for a refused login, with a state authgate issued.
    _, url = await acme.start(app)
    state = query_of(url)["state"]

    response = await acme.ag.client.get(
        f"/v1/sso/callback?error=access_denied&state={state}&iss={acme.idp.issuer}"
    )

    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert response.headers["location"].startswith(APP_REDIRECT + "?")
    assert answer["error"] == "access_denied"
    assert answer["state"] == app.state


@pytest.mark.parametrize("enforce", [True, False])
async def test_enforced_sso_refuses_passwords_and_discovery_says_so(
    acme: SsoOrg, enforce: bool
) -> None:
    member = await acme.ag.user(acme.email(unique_login("pw")))
    await acme.ag.member(acme.org, member, Role.USER)
    await acme.settings(enforce_sso=enforce)

    discovered = await acme.ag.client.post("/v1/sso/discover", json={"email": member.email})
    response = await acme.ag.login_response(member.email)

    assert discovered.status_code == 200, discovered.text
    assert discovered.json()["passwordAllowed"] is (not enforce)
    if enforce:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "sso_required"
    else:
        assert response.status_code == 200


async def test_no_secret_of_the_loop_is_stored_logged_or_returned(
    acme: SsoOrg, capfd: pytest.CaptureFixture[str]
) -> None:
    """The client secret, the IdP's codes and tokens, the state, the nonce and authgate's
    one-time code appear in no response (but where they must), log line, audit entry or
    byte of the database."""
    login = await person(acme, unique_login("canary"))
    app, callback = await acme.to_callback(login)
    state = query_of(callback)["state"]
    redirected = await acme.ag.client.get(callback)
    code = query_of(redirected.headers["location"])["code"]
    tokens = (await acme.redeem(app, code)).json()
    listed = await acme.ag.client.get(f"/v1/orgs/{acme.slug}/sso/idps", headers=acme.owner)
    assert listed.status_code == 200

    from_idp = await acme.idp.issued()
    assert from_idp  # the IdP's authorization code and access token of this login
    canaries = [CLIENT_SECRET, state, code, tokens["refresh_token"], *from_idp]
    logs = capfd.readouterr()
    database = b"".join(p.read_bytes() for p in acme.ag.data_dir.glob("authgate.db*"))
    audit = repr(await acme.ag.services.deps.store.audit.list(acme.org.id, limit=500))
    for canary in canaries:
        assert canary not in logs.out + logs.err
        assert canary.encode() not in database
        assert canary not in audit
    assert all(CLIENT_SECRET not in response.text for response in acme.ag.responses)

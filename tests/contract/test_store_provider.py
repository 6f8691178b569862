"""Contract: the OAuth provider's storage, on SQLite and PostgreSQL — single-use codes and
pushed requests (also under concurrency), expiry and pruning, consents (upsert, listings,
revocation that ends the app's sessions), browser sessions (ending one ends the app sessions
it started, even when the end races the link), and what a client's deletion takes with it."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import replace

import pytest

from authgate.errors import Conflict
from authgate.identity.models import Organization, User
from authgate.provider.models import (
    ApplicationType,
    AuthMethod,
    AuthorizationCode,
    BrowserSession,
    ClientType,
    Consent,
    GrantType,
    OAuthClient,
    PushedRequest,
)
from authgate.store import SqlStore
from authgate.store.oauth_clients import SqlClientRepository
from authgate.tokens.models import TokenFamily

from . import records
from .records import DAY, HOUR, NOW, new_id

MINUTE = HOUR / 60


def oauth_client(org_id: str, name: str = "Notes", **kw: object) -> OAuthClient:
    """A confidential web app of ``org_id``."""
    values: dict[str, object] = {
        "client_id": new_id("app"),
        "org_id": org_id,
        "name": name,
        "client_type": ClientType.CONFIDENTIAL,
        "application_type": ApplicationType.WEB,
        "redirect_uris": ("https://notes.example/cb",),
        "post_logout_redirect_uris": (),
        "grant_types": (GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN),
        "scopes": ("openid", "profile", "email", "offline_access"),
        "token_endpoint_auth_method": AuthMethod.CLIENT_SECRET_BASIC,
        "id_token_signed_response_alg": "RS256",
        "secret_hash": secrets.token_hex(32),
        "logo_uri": "https://notes.example/logo.png",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(kw)
    return OAuthClient(**values)  # type: ignore[arg-type]


def code(client: OAuthClient, user: User, **kw: object) -> AuthorizationCode:
    """An unspent code of ``client`` for ``user``."""
    values: dict[str, object] = {
        "code_hash": secrets.token_hex(32),
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uris[0],
        "user_id": user.id,
        "org_id": client.org_id,
        "scope": "openid email",
        "nonce": "n-0S6_WzA2Mj",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "auth_time": NOW - MINUTE,
        "acr": "urn:authgate:acr:password",
        "amr": ("pwd",),
        "browser_session_id": new_id("bs"),
        "idp_id": None,
        "created_at": NOW,
        "expires_at": NOW + MINUTE,
    }
    values.update(kw)
    return AuthorizationCode(**values)  # type: ignore[arg-type]


def pushed(client: OAuthClient, **kw: object) -> PushedRequest:
    """A pushed request of ``client``."""
    values: dict[str, object] = {
        "uri_hash": secrets.token_hex(32),
        "client_id": client.client_id,
        "parameters": {"client_id": client.client_id, "scope": "openid", "state": "xyz"},
        "created_at": NOW,
        "expires_at": NOW + MINUTE,
    }
    values.update(kw)
    return PushedRequest(**values)  # type: ignore[arg-type]


def consent(user: User, client: OAuthClient, scope: str = "openid", **kw: object) -> Consent:
    """``user``'s consent to ``client``."""
    values: dict[str, object] = {
        "user_id": user.id,
        "client_id": client.client_id,
        "org_id": client.org_id,
        "scope": scope,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(kw)
    return Consent(**values)  # type: ignore[arg-type]


def browser_session(user: User, **kw: object) -> BrowserSession:
    """A live browser session of ``user``."""
    values: dict[str, object] = {
        "id": new_id("bs"),
        "secret_hash": secrets.token_hex(32),
        "user_id": user.id,
        "auth_time": NOW,
        "acr": "urn:authgate:acr:sso",
        "amr": ("fed", "mfa"),
        "idp_id": "idp_1",
        "created_at": NOW,
        "expires_at": NOW + DAY,
    }
    values.update(kw)
    return BrowserSession(**values)  # type: ignore[arg-type]


@pytest.fixture
async def app(store: SqlStore, an_org: Organization) -> OAuthClient:
    """A stored client of ``an_org``."""
    client = oauth_client(an_org.id)
    await SqlClientRepository(store.db).create(client)
    return client


async def family(store: SqlStore, user: User, org_id: str, client_id: str) -> TokenFamily:
    """A stored live family (with its first refresh token) issued to ``client_id``."""
    stored = records.family(user.id, org_id, client_id=client_id)
    await store.refresh_tokens.create_family(stored, records.refresh_token(stored.id))
    return stored


async def revoked(store: SqlStore, stored: TokenFamily) -> tuple[object, object]:
    """The family's revocation time and reason as stored now."""
    found = await store.refresh_tokens.get_family(stored.id)
    assert found is not None
    return found.revoked_at, found.revoked_reason


# --- authorization codes ---------------------------------------------------------------


async def test_a_code_is_spent_once_with_its_session(
    store: SqlStore, app: OAuthClient, a_user: User
) -> None:
    issued = code(app, a_user)
    await store.oauth_codes.add(issued)
    assert await store.oauth_codes.get(issued.code_hash) == issued

    spent = await store.oauth_codes.spend(issued.code_hash, NOW, "session-1")
    again = await store.oauth_codes.spend(issued.code_hash, NOW, "session-2")

    assert spent == replace(issued, used_at=NOW, session_id="session-1")
    assert again is None
    assert await store.oauth_codes.get(issued.code_hash) == spent
    assert await store.oauth_codes.get("unknown") is None
    assert await store.oauth_codes.spend("unknown", NOW, "session-3") is None


async def test_a_code_hash_is_stored_once(store: SqlStore, app: OAuthClient, a_user: User) -> None:
    issued = code(app, a_user)
    await store.oauth_codes.add(issued)
    with pytest.raises(Conflict):
        await store.oauth_codes.add(replace(issued, scope="openid"))


async def test_concurrent_spends_of_one_code_give_it_to_one(
    store: SqlStore, app: OAuthClient, a_user: User
) -> None:
    issued = code(app, a_user, code_challenge=None, nonce=None, idp_id="idp_9")
    await store.oauth_codes.add(issued)

    spent = await asyncio.gather(
        *(store.oauth_codes.spend(issued.code_hash, NOW, f"s{i}") for i in range(6))
    )

    winners = [s for s in spent if s is not None]
    assert len(winners) == 1
    assert await store.oauth_codes.get(issued.code_hash) == winners[0]
    assert winners[0].session_id in {f"s{i}" for i in range(6)}


async def test_an_expired_code_is_not_spent(
    store: SqlStore, app: OAuthClient, a_user: User
) -> None:
    issued = code(app, a_user, expires_at=NOW)
    await store.oauth_codes.add(issued)

    assert await store.oauth_codes.spend(issued.code_hash, NOW, "s") is None
    assert await store.oauth_codes.get(issued.code_hash) == issued  # still unused


async def test_prune_removes_codes_that_expired_before_the_cutoff(
    store: SqlStore, app: OAuthClient, a_user: User
) -> None:
    old = code(app, a_user, expires_at=NOW - HOUR)
    fresh = code(app, a_user, expires_at=NOW + MINUTE)
    for each in (old, fresh):
        await store.oauth_codes.add(each)

    assert await store.oauth_codes.prune(NOW) == 1
    assert await store.oauth_codes.get(old.code_hash) is None
    assert await store.oauth_codes.get(fresh.code_hash) == fresh


# --- pushed authorization requests -----------------------------------------------------


async def test_a_pushed_request_is_taken_once(store: SqlStore, app: OAuthClient) -> None:
    stored = pushed(app)
    await store.pushed_requests.add(stored)
    with pytest.raises(Conflict):
        await store.pushed_requests.add(replace(stored, parameters={}))

    assert await store.pushed_requests.take(stored.uri_hash, NOW) == stored
    assert await store.pushed_requests.take(stored.uri_hash, NOW) is None
    assert await store.pushed_requests.take("unknown", NOW) is None


async def test_concurrent_takes_of_one_request_uri_give_it_to_one(
    store: SqlStore, app: OAuthClient
) -> None:
    stored = pushed(app)
    await store.pushed_requests.add(stored)

    taken = await asyncio.gather(
        *(store.pushed_requests.take(stored.uri_hash, NOW) for _ in range(6))
    )

    assert [t for t in taken if t is not None] == [stored]


async def test_an_expired_pushed_request_is_not_taken_and_is_pruned(
    store: SqlStore, app: OAuthClient
) -> None:
    expired = pushed(app, expires_at=NOW)
    live = pushed(app, expires_at=NOW + MINUTE)
    for each in (expired, live):
        await store.pushed_requests.add(each)

    assert await store.pushed_requests.take(expired.uri_hash, NOW) is None
    assert await store.pushed_requests.prune(NOW + MINUTE / 2) == 1
    assert await store.pushed_requests.take(live.uri_hash, NOW) == live


# --- consents --------------------------------------------------------------------------


async def test_a_consent_is_upserted_keeping_its_first_grant_time(
    store: SqlStore, app: OAuthClient, a_user: User
) -> None:
    first = consent(a_user, app, "openid")
    await store.consents.put(first)
    assert await store.consents.get(a_user.id, app.client_id) == first

    wider = consent(a_user, app, "email openid", created_at=NOW + HOUR, updated_at=NOW + HOUR)
    await store.consents.put(wider)

    assert await store.consents.get(a_user.id, app.client_id) == replace(wider, created_at=NOW)
    assert await store.consents.get(a_user.id, "other-app") is None
    assert await store.consents.get("other-user", app.client_id) is None


async def test_listings_join_the_clients_by_name_and_the_users_by_email(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    atlas = oauth_client(an_org.id, "Atlas", logo_uri=None, client_type=ClientType.PUBLIC)
    await SqlClientRepository(store.db).create(atlas)
    zed = records.user("zed@example.com")
    amy = records.user("amy@example.com")
    for person in (zed, amy):
        await store.users.create(person)
    for person, client in ((a_user, app), (a_user, atlas), (zed, app), (amy, app)):
        await store.consents.put(consent(person, client, "openid " + client.name.lower()))

    mine = await store.consents.list_for_user(a_user.id)
    granted = await store.consents.list_for_client(app.client_id)

    assert [(c.client_id, c.scope, client) for c, client in mine] == [
        (atlas.client_id, "openid atlas", atlas),
        (app.client_id, "openid notes", app),
    ]
    assert [user.email for _, user in granted] == sorted([a_user.email, zed.email, amy.email])
    assert granted[0] == (consent(amy, app, "openid notes"), amy)
    assert await store.consents.list_for_user("nobody") == []
    assert await store.consents.list_for_client(atlas.client_id) == [
        (consent(a_user, atlas, "openid atlas"), a_user)
    ]


async def test_revoking_a_consent_revokes_the_apps_live_sessions_for_that_user_only(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    other_app = oauth_client(an_org.id, "Other")
    await SqlClientRepository(store.db).create(other_app)
    someone = records.user()
    await store.users.create(someone)
    for person, client in ((a_user, app), (a_user, other_app), (someone, app)):
        await store.consents.put(consent(person, client))
    targets = [await family(store, a_user, an_org.id, app.client_id) for _ in range(2)]
    spared = [
        await family(store, a_user, an_org.id, other_app.client_id),
        await family(store, someone, an_org.id, app.client_id),
    ]
    ended = await family(store, a_user, an_org.id, app.client_id)
    await store.refresh_tokens.revoke_family(ended.id, "logout", NOW)

    assert await store.consents.revoke(a_user.id, app.client_id, NOW + HOUR) is True

    assert await store.consents.get(a_user.id, app.client_id) is None
    for target in targets:
        assert await revoked(store, target) == (NOW + HOUR, "consent revoked")
    for other in spared:
        assert await revoked(store, other) == (None, None)
    assert await revoked(store, ended) == (NOW, "logout")  # already revoked: left alone
    assert await store.consents.get(a_user.id, other_app.client_id) is not None
    assert await store.consents.revoke(a_user.id, app.client_id, NOW + HOUR) is False


# --- browser sessions ------------------------------------------------------------------


async def test_a_browser_session_is_found_by_secret_hash_and_id(
    store: SqlStore, a_user: User
) -> None:
    stored = browser_session(a_user)
    await store.browser_sessions.create(stored)

    assert await store.browser_sessions.find(stored.secret_hash) == stored
    assert await store.browser_sessions.get(stored.id) == stored
    assert await store.browser_sessions.find("unknown") is None
    assert await store.browser_sessions.get("unknown") is None
    with pytest.raises(Conflict):
        await store.browser_sessions.create(replace(stored, id=new_id("bs")))


async def test_ending_a_browser_session_revokes_the_families_it_started(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    stored = browser_session(a_user)
    await store.browser_sessions.create(stored)
    linked = [await family(store, a_user, an_org.id, app.client_id) for _ in range(2)]
    unlinked = await family(store, a_user, an_org.id, app.client_id)
    for each in linked:
        await store.browser_sessions.link(stored.id, each.id)

    assert await store.browser_sessions.end(stored.id, NOW + HOUR) == 2

    ended = await store.browser_sessions.get(stored.id)
    assert ended == replace(stored, ended_at=NOW + HOUR)
    assert not ended.is_live(NOW + HOUR)
    for each in linked:
        assert await revoked(store, each) == (NOW + HOUR, "logout")
    assert await revoked(store, unlinked) == (None, None)
    assert await store.browser_sessions.end(stored.id, NOW + DAY) == 0
    assert (await store.browser_sessions.get(stored.id)) == ended  # the first end stands


async def test_a_family_linked_to_an_ended_session_is_revoked_at_once(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    stored = browser_session(a_user)
    await store.browser_sessions.create(stored)
    await store.browser_sessions.end(stored.id, NOW)
    late = await family(store, a_user, an_org.id, app.client_id)
    orphan = await family(store, a_user, an_org.id, app.client_id)

    await store.browser_sessions.link(stored.id, late.id)
    await store.browser_sessions.link("unknown-session", orphan.id)

    assert await revoked(store, late) == (late.created_at, "logout")
    assert await revoked(store, orphan) == (orphan.created_at, "logout")


async def test_an_end_racing_a_link_never_leaves_the_family_live(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    for _ in range(20):
        stored = browser_session(a_user)
        await store.browser_sessions.create(stored)
        started = await family(store, a_user, an_org.id, app.client_id)

        await asyncio.gather(
            store.browser_sessions.link(stored.id, started.id),
            store.browser_sessions.end(stored.id, NOW + HOUR),
        )

        assert (await revoked(store, started))[1] == "logout"


async def test_ending_a_users_browser_sessions_spares_others_and_ended_ones(
    store: SqlStore, a_user: User
) -> None:
    someone = records.user()
    await store.users.create(someone)
    mine = [browser_session(a_user) for _ in range(2)]
    already = browser_session(a_user, ended_at=NOW - HOUR)
    expired = browser_session(a_user, expires_at=NOW - HOUR)
    theirs = browser_session(someone)
    for each in (*mine, already, expired, theirs):
        await store.browser_sessions.create(each)

    assert await store.browser_sessions.end_for_user(a_user.id, NOW) == 2

    for each in mine:
        assert await store.browser_sessions.get(each.id) == replace(each, ended_at=NOW)
    for each in (already, expired, theirs):
        assert await store.browser_sessions.get(each.id) == each


async def test_prune_removes_browser_sessions_that_ended_or_expired_before_the_cutoff(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    ended = browser_session(a_user, ended_at=NOW - HOUR)
    expired = browser_session(a_user, expires_at=NOW - HOUR)
    live = browser_session(a_user)
    for each in (ended, expired, live):
        await store.browser_sessions.create(each)
    started = await family(store, a_user, an_org.id, app.client_id)
    await store.browser_sessions.link(ended.id, started.id)

    assert await store.browser_sessions.prune(NOW) == 2

    assert await store.browser_sessions.get(ended.id) is None
    assert await store.browser_sessions.get(expired.id) is None
    assert await store.browser_sessions.get(live.id) == live
    assert await store.refresh_tokens.get_family(started.id) is not None  # only the link went


# --- a client's deletion ---------------------------------------------------------------


async def test_deleting_a_client_takes_its_codes_requests_and_consents(
    store: SqlStore, an_org: Organization, app: OAuthClient, a_user: User
) -> None:
    kept = oauth_client(an_org.id, "Kept")
    await SqlClientRepository(store.db).create(kept)
    gone_code, kept_code = code(app, a_user), code(kept, a_user)
    gone_request, kept_request = pushed(app), pushed(kept)
    for client, issued, request in (
        (app, gone_code, gone_request),
        (kept, kept_code, kept_request),
    ):
        await store.oauth_codes.add(issued)
        await store.pushed_requests.add(request)
        await store.consents.put(consent(a_user, client))

    assert await SqlClientRepository(store.db).delete(app.client_id) is True

    assert await store.oauth_codes.get(gone_code.code_hash) is None
    assert await store.pushed_requests.take(gone_request.uri_hash, NOW) is None
    assert await store.consents.get(a_user.id, app.client_id) is None
    assert await store.consents.list_for_user(a_user.id) == [(consent(a_user, kept), kept)]
    assert await store.oauth_codes.get(kept_code.code_hash) == kept_code
    assert await store.pushed_requests.take(kept_request.uri_hash, NOW) == kept_request

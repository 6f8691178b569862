"""The refresh grant of :class:`SessionService` on a real (SQLite) runtime.

The common case rotates through ``rotate_for_client``; a requested scope takes the read-first
path. Both must refuse the same things and end the session on reuse or withdrawn access.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio

from authgate.app import Runtime, build_runtime
from authgate.config import Settings
from authgate.errors import InvalidGrant, InvalidScope
from authgate.identity.deps import Actor
from authgate.identity.models import Membership, Organization, Role, User
from authgate.tokens.responses import TokenResponse
from authgate.tokens.sessions import DEVICE_CLIENT_ID

PASSWORD = "correct horse battery staple"
NOBODY = Actor(None, "127.0.0.1")
# Absent, blank and whitespace scopes all mean "everything granted": the one-statement path.
NO_SCOPE = [None, "", "  "]


@dataclass
class Signed:
    runtime: Runtime
    org: Organization
    user: User
    tokens: TokenResponse

    async def refresh(
        self, token: str, client_id: str = DEVICE_CLIENT_ID, scope: str | None = None
    ) -> TokenResponse:
        return await self.runtime.services.sessions.refresh(token, client_id, scope, NOBODY)

    async def revoked_reason(self) -> str | None:
        digest = self.runtime.services.deps.keyed.digest(self.tokens.refresh_token or "")
        found = await self.runtime.store.refresh_tokens.find(digest)
        assert found is not None
        return found[0].revoked_reason

    async def actions(self) -> list[str]:
        return [event.action for event in await self.runtime.store.audit.list(self.org.id)]


@pytest_asyncio.fixture(loop_scope="session")
async def signed(tmp_path: Path) -> AsyncIterator[Signed]:
    settings = Settings(
        data_dir=tmp_path, secret_key="k" * 40, argon2_memory_kib=19456, argon2_time_cost=2
    )
    runtime = await build_runtime(settings)
    try:
        services = runtime.services
        user = await services.accounts.create_user("owner@acme.test", PASSWORD, "Owner")
        org = await services.organizations.create("acme", "Acme", user, NOBODY)
        tokens = await services.sessions.password_login(user.email, PASSWORD, NOBODY)
        yield Signed(runtime, org, user, tokens)
    finally:
        await runtime.close()


def first_token(signed: Signed) -> str:
    assert signed.tokens.refresh_token is not None
    return signed.tokens.refresh_token


@pytest.mark.parametrize("scope", NO_SCOPE)
async def test_refresh_issues_the_whole_granted_scope_and_a_working_successor(
    signed: Signed, scope: str | None
) -> None:
    rotated = await signed.refresh(first_token(signed), scope=scope)

    assert rotated.scope == signed.tokens.scope
    assert rotated.refresh_token not in (None, first_token(signed))
    claims = signed.runtime.services.access.verify(rotated.access_token)
    assert claims.roles == ("OWNER",)
    assert rotated.refresh_token is not None
    again = await signed.refresh(rotated.refresh_token, scope=scope)
    assert again.refresh_token not in (None, rotated.refresh_token)


@pytest.mark.parametrize("scope", [*NO_SCOPE, "openid"])
@pytest.mark.parametrize("client_id", ["authgate-cli", "AUTHGATE-DEVICE", ""])
async def test_another_client_is_refused_and_spends_nothing(
    signed: Signed, scope: str | None, client_id: str
) -> None:
    with pytest.raises(InvalidGrant, match="another client"):
        await signed.refresh(first_token(signed), client_id=client_id, scope=scope)

    assert await signed.revoked_reason() is None
    assert (await signed.refresh(first_token(signed))).refresh_token is not None


async def test_a_broader_scope_is_refused_and_spends_nothing(signed: Signed) -> None:
    with pytest.raises(InvalidScope):
        await signed.refresh(first_token(signed), scope="openid admin")

    narrower = await signed.refresh(first_token(signed), scope="openid")
    assert narrower.scope == "openid"


@pytest.mark.parametrize("scope", [*NO_SCOPE, "openid"])
async def test_reuse_revokes_the_family_and_is_audited(signed: Signed, scope: str | None) -> None:
    successor = (await signed.refresh(first_token(signed), scope=scope)).refresh_token
    assert successor is not None

    with pytest.raises(InvalidGrant):
        await signed.refresh(first_token(signed), scope=scope)

    assert await signed.revoked_reason() == "reuse"
    assert "token.reuse" in await signed.actions()
    with pytest.raises(InvalidGrant):
        await signed.refresh(successor, scope=scope)


@pytest.mark.parametrize("scope", [*NO_SCOPE, "openid"])
@pytest.mark.parametrize("withdrawal", ["DENY", "removed", "disabled"])
async def test_withdrawn_access_ends_the_session_for_good(
    signed: Signed, scope: str | None, withdrawal: str
) -> None:
    store, now = signed.runtime.store, signed.runtime.services.deps.now()
    if withdrawal == "DENY":
        await store.memberships.put(Membership(signed.org.id, signed.user.id, Role.DENY, now))
    elif withdrawal == "removed":
        await store.memberships.delete(signed.org.id, signed.user.id)
    else:
        # Straight in the store: the account service would also revoke the sessions itself.
        await store.users.update(replace(signed.user, disabled=True))

    with pytest.raises(InvalidGrant):
        await signed.refresh(first_token(signed), scope=scope)

    assert await signed.revoked_reason() == "access withdrawn"
    # Restoring access does not revive the session.
    await store.memberships.put(Membership(signed.org.id, signed.user.id, Role.OWNER, now))
    await store.users.update(signed.user)
    with pytest.raises(InvalidGrant):
        await signed.refresh(first_token(signed), scope=scope)


@pytest.mark.parametrize("token", ["", "x", "not-a-token-" * 8])
async def test_unknown_tokens_are_refused(signed: Signed, token: str) -> None:
    with pytest.raises(InvalidGrant, match="sign in again"):
        await signed.refresh(token)
    assert await signed.revoked_reason() is None

"""Consents: what each person allowed each app, remembered until they or an admin revoke it.

The authorization endpoint asks :meth:`ConsentService.covers` whether the consent page can be
skipped, and calls :meth:`ConsentService.remember` when the person allows the app. A person
sees and revokes their own consents; an OWNER or ADMIN of the organization that registered an
app sees and revokes its grants (another organization's admin gets 404, as if the app did not
exist). Revoking ends the app's sessions for that person in the same transaction, so its
refresh tokens stop working at once.
"""

from __future__ import annotations

from authgate.errors import NotFound, Unauthenticated
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.models import User
from authgate.provider.models import Consent, OAuthClient
from authgate.provider.ports import ClientRepository, ConsentRepository
from authgate.tokens.scopes import format_scope, parse_scope

MAX_ID_CHARS = 128
"""Longer ids are cut in messages (they come from the caller)."""


def _person(actor: Actor) -> str:
    if actor.user_id is None:
        raise Unauthenticated("this needs a signed-in user's access token")
    return actor.user_id


class ConsentService:
    """Checks, remembers, lists and revokes consents."""

    def __init__(
        self, deps: IdentityDeps, consents: ConsentRepository, clients: ClientRepository
    ) -> None:
        self._deps = deps
        self._consents = consents
        self._clients = clients

    async def covers(self, user_id: str, client_id: str, scope: str) -> bool:
        """Whether the person's remembered consent includes every scope of ``scope``."""
        found = await self._consents.get(user_id, client_id)
        return found is not None and parse_scope(scope) <= parse_scope(found.scope)

    async def remember(self, user_id: str, client: OAuthClient, scope: str) -> None:
        """Remember that the person allowed ``scope``, added to what they allowed before."""
        now = self._deps.now()
        found = await self._consents.get(user_id, client.client_id)
        allowed = parse_scope(scope) | (parse_scope(found.scope) if found else frozenset())
        await self._consents.put(
            Consent(
                user_id=user_id,
                client_id=client.client_id,
                org_id=client.org_id,
                scope=format_scope(allowed),
                created_at=found.created_at if found else now,
                updated_at=now,
            )
        )
        await self._deps.audit(
            "consent.grant", Actor(user_id), org_id=client.org_id, subject=user_id,
            client_id=client.client_id, scope=format_scope(allowed),
        )  # fmt: skip

    async def list_mine(self, actor: Actor) -> list[tuple[Consent, OAuthClient]]:
        """The apps the signed-in person allowed, by name."""
        return await self._consents.list_for_user(_person(actor))

    async def revoke_mine(self, client_id: str, actor: Actor) -> None:
        """Withdraw the person's consent to an app and end the app's sessions for them."""
        user_id = _person(actor)
        found = await self._consents.get(user_id, client_id)
        if found is None or not await self._consents.revoke(user_id, client_id, self._deps.now()):
            raise NotFound(f"you have not allowed an app '{client_id[:MAX_ID_CHARS]}'")
        await self._audit_revoke(actor, found.org_id, user_id, client_id)

    async def list_for_client(
        self, slug: str, client_id: str, actor: Actor
    ) -> list[tuple[Consent, User]]:
        """The people who allowed an app of the organization (admins only), by email."""
        await self._client_of(slug, client_id, actor)
        return await self._consents.list_for_client(client_id)

    async def revoke_for_client(
        self, slug: str, client_id: str, user_id: str, actor: Actor
    ) -> None:
        """Withdraw a person's grant to an app of the organization (admins only) and end
        the app's sessions for them."""
        client = await self._client_of(slug, client_id, actor)
        if not await self._consents.revoke(user_id, client_id, self._deps.now()):
            raise NotFound(f"user '{user_id[:MAX_ID_CHARS]}' has not allowed this app")
        await self._audit_revoke(actor, client.org_id, user_id, client_id)

    async def _client_of(self, slug: str, client_id: str, actor: Actor) -> OAuthClient:
        org, _ = await require_admin(self._deps, slug, actor)
        client = await self._clients.get(client_id)
        if client is None or client.org_id != org.id:
            raise NotFound(
                f"the organization has no app with client id '{client_id[:MAX_ID_CHARS]}'"
            )
        return client

    async def _audit_revoke(self, actor: Actor, org_id: str, user_id: str, client_id: str) -> None:
        await self._deps.audit(
            "consent.revoke", actor, org_id=org_id, subject=user_id, client_id=client_id
        )

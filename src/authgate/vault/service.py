"""Administration of an organization's credentials: write-only, every change audited.

Only OWNER and ADMIN of the organization act here (another organization's admin gets 404,
a MAKER or USER 403). Nothing returned, raised, logged or audited contains a value.

Versions: replacing a credential seals the new value as version n+1 and makes it current in
one compare-and-set transaction. A call reads the credential and its current version in one
statement and then holds the decrypted value in memory, so a replacement never breaks a call
in flight. The superseded version's ciphertext is kept for :data:`VERSION_GRACE` (longer than
any call may run) and deleted by a later replacement of the same credential; nothing else
ever reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar

from authgate.crypto.envelope import Envelope
from authgate.crypto.randomness import new_id
from authgate.errors import NotFound
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.vault.connections import ConnectionService
from authgate.vault.errors import InvalidCredential
from authgate.vault.models import Credential, CredentialSpec, SecretVersion, UsableCredential
from authgate.vault.ports import CredentialRepository
from authgate.vault.resolver import CallResolver
from authgate.vault.sealing import seal_fields
from authgate.vault.validation import check_name, check_solution, check_spec

T = TypeVar("T")

VERSION_GRACE = timedelta(minutes=10)
"""How long a superseded version's ciphertext is kept (a call runs at most 30 s)."""


class VaultService(Generic[T]):
    """Create, replace, list, describe and delete credentials; bind resolvers to calls.

    ``build`` turns what a resolver finds into the engine's credential type ``T``.
    """

    def __init__(
        self,
        deps: IdentityDeps,
        repository: CredentialRepository,
        envelope: Envelope,
        build: Callable[[UsableCredential], T],
        *,
        connections: ConnectionService | None = None,
        version_grace: timedelta = VERSION_GRACE,
    ) -> None:
        self._build = build
        self._connections = connections
        self._deps = deps
        self._repository = repository
        self._envelope = envelope
        self._grace = version_grace

    async def put(
        self, slug: str, name: str, spec: CredentialSpec, actor: Actor
    ) -> tuple[Credential, bool]:
        """Create the credential, or replace its value and settings with a new version.

        Returns the metadata and whether it was created.
        """
        org, _ = await require_admin(self._deps, slug, actor)
        check_name(name)
        spec = check_spec(spec)
        existing = await self._repository.get(org.id, name, spec.solution)
        now = self._deps.now()
        if existing is not None and existing.kind is not spec.kind:
            # A kind change is a new credential: delete it first, so that nothing
            # resolving the name silently starts sending a different kind of secret.
            raise InvalidCredential(
                f"credential '{name}' is a {existing.kind.value}; delete it before storing "
                f"a {spec.kind.value} under the same name"
            )
        credential = Credential(
            id=existing.id if existing else new_id(),
            org_id=org.id,
            name=name,
            kind=spec.kind,
            solution=spec.solution,
            allowed_hosts=spec.allowed_hosts,
            device_usable=spec.device_usable,
            description=spec.description,
            oauth=spec.oauth,
            created_by=existing.created_by if existing else actor.user_id,
            created_at=existing.created_at if existing else now,
            updated_by=actor.user_id,
            updated_at=now,
            version=existing.version + 1 if existing else 1,
        )
        sealed = seal_fields(self._envelope, spec.secret, org.id, credential.id, credential.version)
        secret = SecretVersion(credential.id, credential.version, sealed, now)
        if existing is None:
            await self._repository.create(credential, secret)
        else:
            await self._repository.replace(
                credential,
                secret,
                expected_version=existing.version,
                prune_before=now - self._grace,
            )
        await self._audit(
            "credential.created" if existing is None else "credential.replaced",
            actor,
            credential,
        )
        return credential, existing is None

    async def list(self, slug: str, actor: Actor) -> list[Credential]:
        """Every credential of the organization (metadata only)."""
        org, _ = await require_admin(self._deps, slug, actor)
        return await self._repository.list_for_org(org.id)

    async def get(
        self, slug: str, name: str, actor: Actor, solution: str | None = None
    ) -> Credential:
        """One credential's metadata; NotFound when absent in that scope."""
        org, _ = await require_admin(self._deps, slug, actor)
        return await self._find(org.id, name, solution)

    async def delete(self, slug: str, name: str, actor: Actor, solution: str | None = None) -> None:
        """Delete the credential and every version of its value."""
        org, _ = await require_admin(self._deps, slug, actor)
        credential = await self._find(org.id, name, solution)
        if not await self._repository.delete(credential.id):
            raise _not_found(name)
        await self._audit("credential.deleted", actor, credential)

    def resolver(
        self, org_id: str, solution: str | None, function: str, actor: Actor
    ) -> CallResolver[T]:
        """The credential resolver of one function call (see :class:`CallResolver`)."""
        return CallResolver(
            self._deps,
            self._repository,
            self._envelope,
            org_id,
            solution,
            function,
            actor,
            self._build,
            self._connections,
        )

    async def _find(self, org_id: str, name: str, solution: str | None) -> Credential:
        check_name(name)
        credential = await self._repository.get(org_id, name, check_solution(solution))
        if credential is None:
            raise _not_found(name)
        return credential

    async def _audit(self, action: str, actor: Actor, credential: Credential) -> None:
        await self._deps.audit(
            action,
            actor,
            org_id=credential.org_id,
            subject=credential.name,
            credential_id=credential.id,
            kind=credential.kind.value,
            version=str(credential.version),
            solution=credential.solution or "",
        )


def _not_found(name: str) -> NotFound:
    return NotFound(f"credential '{name}' not found; list them with GET .../credentials")

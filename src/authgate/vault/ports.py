"""What the vault needs from storage: narrow async interfaces, implemented in ``store/vault.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from authgate.crypto.envelope import SealedSecret
from authgate.vault.models import Credential, SecretVersion, WrappedKeyRow


class CredentialRepository(Protocol):
    """Credentials and their sealed versions.

    A credential is unique per (organization, solution scope, name); ``solution=None`` is
    the organization-wide scope.
    """

    async def create(self, credential: Credential, secret: SecretVersion) -> None:
        """Insert the credential and its first version in one transaction;
        :class:`authgate.errors.Conflict` when the name is taken in that scope."""
        ...

    async def replace(
        self,
        credential: Credential,
        secret: SecretVersion,
        *,
        expected_version: int,
        prune_before: datetime,
    ) -> None:
        """In one transaction: store ``secret`` as the new current version and the
        credential's new metadata, provided the current version is still
        ``expected_version`` (else :class:`authgate.errors.Conflict`); mark the previous
        version superseded now; delete versions superseded before ``prune_before``."""
        ...

    async def get(self, org_id: str, name: str, solution: str | None) -> Credential | None:
        """The credential of exactly this scope, or ``None``."""
        ...

    async def list_for_org(self, org_id: str) -> list[Credential]:
        """Every credential of the organization, by name then scope."""
        ...

    async def delete(self, credential_id: str) -> bool:
        """Remove the credential and every version; True when it existed."""
        ...

    async def find_current(
        self, org_id: str, name: str, solution: str | None
    ) -> tuple[Credential, SecretVersion] | None:
        """The credential a call in ``solution`` means by ``name`` (scoped to the solution
        first, then organization-wide) with its current version, read in one statement."""
        ...


class KeyRotationRepository(Protocol):
    """The wrapped data keys, for re-wrapping under a new key-encryption key."""

    async def count_by_kek(self) -> dict[str, int]:
        """How many stored versions each KEK id wraps."""
        ...

    async def wrapped_elsewhere(self, current_kek_id: str, limit: int) -> list[WrappedKeyRow]:
        """Up to ``limit`` versions whose data key is wrapped by another KEK."""
        ...

    async def rewrap(self, row: WrappedKeyRow, sealed: SealedSecret) -> bool:
        """Store the re-wrapped key if the row still holds ``row.sealed``'s wrapped key
        (compare-and-set, committed on its own); False when it changed or is gone."""
        ...

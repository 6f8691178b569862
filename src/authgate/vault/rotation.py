"""Re-wrapping every data key under the current key-encryption key, resumably.

Each row is re-wrapped and committed on its own (compare-and-set on the old wrapped key),
so an interrupted run loses nothing and the next run continues with the rows still wrapped
by an older KEK. Servers keep working throughout: they unwrap with any configured KEK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authgate.crypto.envelope import Envelope, SealedSecret, UnknownKek, bind
from authgate.vault.models import WrappedKeyRow
from authgate.vault.ports import KeyRotationRepository
from authgate.vault.sealing import connection_context, credential_context

BATCH = 100


@dataclass(frozen=True, slots=True)
class RotationProgress:
    """Where a rotation stands: rows re-wrapped so far, and rows left at the start."""

    rewrapped: int
    total: int


class KekRotation:
    """Moves every stored data key to the envelope's current KEK."""

    def __init__(self, repository: KeyRotationRepository, envelope: Envelope) -> None:
        self._repository = repository
        self._envelope = envelope

    async def pending(self) -> int:
        """How many versions are wrapped by a KEK other than the current one.

        Raises :class:`UnknownKek` if any is wrapped by a KEK this process was not given.
        """
        counts = await self._repository.count_by_kek()
        unknown = sorted(k for k in counts if not self._envelope.knows(k))
        if unknown:
            raise UnknownKek(
                f"{sum(counts[k] for k in unknown)} stored secret(s) are wrapped by "
                f"{', '.join(unknown)}, which is not configured. Fix: add that key to "
                "AUTHGATE_VAULT_PREVIOUS_KEKS (comma-separated base64), then run again"
            )
        current = self._envelope.current.kek_id
        return sum(n for kek_id, n in counts.items() if kek_id != current)

    async def run(
        self,
        *,
        batch: int = BATCH,
        on_progress: Callable[[RotationProgress], None] | None = None,
    ) -> int:
        """Re-wrap every pending row; returns how many this run re-wrapped."""
        total = await self.pending()
        current = self._envelope.current.kek_id
        done = 0
        seen: set[tuple[str, str | None, int]] = set()
        while True:
            rows = await self._repository.wrapped_elsewhere(current, batch)
            fresh = [row for row in rows if _key(row) not in seen]
            if not fresh:
                return done
            for row in fresh:
                seen.add(_key(row))
                rewrapped = self._envelope.rewrap(row.sealed, _context(row))
                if await self._repository.rewrap(row, rewrapped):
                    done += 1
                if on_progress is not None:
                    on_progress(RotationProgress(done, total))


def _key(row: WrappedKeyRow) -> tuple[str, str | None, int]:
    return (row.credential_id, row.user_id, row.version)


def _context(row: WrappedKeyRow) -> bytes:
    if row.bound_to is not None:
        return bind(*row.bound_to)
    if row.user_id is None:
        return credential_context(row.org_id, row.credential_id, row.version)
    return connection_context(row.org_id, row.credential_id, row.user_id, row.version)


class JoinedKeyRows:
    """Several :class:`KeyRotationRepository` as one: the vault's and the gateway's rows."""

    def __init__(self, *repositories: KeyRotationRepository) -> None:
        self._repositories = repositories
        self._owners: dict[WrappedKeyRow, KeyRotationRepository] = {}

    async def count_by_kek(self) -> dict[str, int]:
        """The sum of every repository's counts."""
        counts: dict[str, int] = {}
        for repository in self._repositories:
            for kek_id, n in (await repository.count_by_kek()).items():
                counts[kek_id] = counts.get(kek_id, 0) + n
        return counts

    async def wrapped_elsewhere(self, current_kek_id: str, limit: int) -> list[WrappedKeyRow]:
        """Rows of the first repositories first, up to ``limit`` in all."""
        found: list[WrappedKeyRow] = []
        self._owners.clear()
        for repository in self._repositories:
            if len(found) >= limit:
                break
            rows = await repository.wrapped_elsewhere(current_kek_id, limit - len(found))
            for row in rows:
                self._owners[row] = repository
            found += rows
        return found

    async def rewrap(self, row: WrappedKeyRow, sealed: SealedSecret) -> bool:
        """Re-wrap through the repository the row came from."""
        return await self._owners[row].rewrap(row, sealed)

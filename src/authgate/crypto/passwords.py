"""argon2id password hashing, run off the event loop (OWASP Password Storage Cheat Sheet).

argon2-cffi releases the GIL while hashing, so a small thread pool gives real parallelism
without blocking the event loop. Hashes made with weaker parameters are reported by
:meth:`Argon2Hasher.needs_rehash` so sign-in can upgrade them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_T = TypeVar("_T")


class Argon2Hasher:
    """The :class:`authgate.identity.ports.PasswordHasher` of authgate."""

    def __init__(
        self,
        *,
        memory_kib: int,
        time_cost: int,
        parallelism: int = 1,
        max_workers: int | None = None,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        # One thread per core this process may run on: more would only take turns on a core
        # and evict each other's memory_kib from the cache (each hash holds it while it runs).
        self._pool = ThreadPoolExecutor(
            max_workers=max_workers or usable_cores(), thread_name_prefix="argon2"
        )
        self._dummy_hash: str | None = None

    async def _run(self, fn: Callable[..., _T], *args: str) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def hash(self, password: str) -> str:
        """A new argon2id hash with a fresh salt."""
        return await self._run(self._argon2.hash, password)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return bool(self._argon2.verify(password_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
            return False  # ValueError: a hash with non-ASCII characters

    async def verify(self, password_hash: str, password: str) -> bool:
        """True only when the password matches the hash."""
        return await self._run(self._verify_sync, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the hash's parameters are below the current ones, or it is not argon2id."""
        try:
            return bool(self._argon2.check_needs_rehash(password_hash))
        except (InvalidHashError, ValueError):
            return True

    async def burn(self) -> None:
        """Spend one verification's time on a dummy hash (unknown users look like wrong ones)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("authgate-timing-equaliser")
        await self.verify(self._dummy_hash, "not-the-password")

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), not all the machine has."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # platforms without affinity
        return os.cpu_count() or 1

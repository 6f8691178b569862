"""Signing-key lifecycle: publish, then sign, then publish until expiry, then prune.

Each algorithm authgate signs with (Ed25519 for access tokens, RSA for ID tokens) has its
own keys and goes through the same lifecycle. ``authgate keys rotate`` adds a key of each
algorithm and marks the previous ones superseded (``retired_at``). A new key is published at
once but signs only after ``activation_delay`` — longer than the nodes' reload period — so
every node can verify it before any node signs with it (a token naming a key this node does
not hold yet also triggers one rate-limited reload). Superseded keys keep signing until
then, and stay published until every token they signed has expired;
:meth:`SigningKeyManager.reload` then deletes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from authgate.clock import Clock
from authgate.crypto import ed25519, rsa
from authgate.crypto.sealing import Sealer, SealError
from authgate.crypto.signing import Signer
from authgate.errors import ConfigurationError
from authgate.tokens.keyring import EDDSA, RS256, Keyring
from authgate.tokens.models import SigningKey
from authgate.tokens.ports import SigningKeyRepository


def _associated_data(kid: str) -> bytes:
    # Binds the sealed private key to its key id: a swapped row fails to open.
    return f"authgate:signing-key:{kid}".encode()


class _KeyKind(Protocol):
    """What a key module (:mod:`authgate.crypto.ed25519`, :mod:`authgate.crypto.rsa`) offers."""

    def generate(self) -> tuple[Signer, dict[str, Any], bytes]:
        """A new key: its signer, its public JWK and its private bytes (to be sealed)."""
        ...

    def signer_from_raw(self, kid: str, raw: bytes) -> Signer:
        """Rebuild a signer from private bytes."""
        ...


# The modules themselves, looked up when used (tests may wrap their functions).
_KINDS: dict[str, _KeyKind] = {EDDSA: ed25519, RS256: rsa}


class SigningKeyManager:
    """Keeps the :class:`Keyring` in step with the stored keys."""

    def __init__(
        self,
        repository: SigningKeyRepository,
        sealer: Sealer,
        keyring: Keyring,
        clock: Clock,
        *,
        publish_after_retire: int,
        activation_delay: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._sealer = sealer
        self._keyring = keyring
        self._clock = clock
        self._activation_delay = timedelta(seconds=activation_delay)
        # A superseded key may sign until its successor activates, then its tokens live on.
        self._publish_after_retire = timedelta(seconds=publish_after_retire + activation_delay)
        self._monotonic = monotonic
        self._last_reload = float("-inf")

    async def rotate(self) -> dict[str, str]:
        """Add a new key of each algorithm, retire the others; return the new ids by algorithm."""
        now = self._clock()
        for key in await self._repository.list():
            if key.retired_at is None:
                await self._repository.retire(key.kid, now)
        kids = {algorithm: await self._add(algorithm, now) for algorithm in _KINDS}
        await self.reload()
        return kids

    async def ensure_key(self) -> None:
        """Create a key for each algorithm that has no active one, then load.

        A new deployment gets its first keys; one made before RS256 existed gains an RSA key
        and keeps its Ed25519 key.
        """
        await self.reload()
        active = {key.algorithm for key in await self._repository.list() if key.retired_at is None}
        missing = [algorithm for algorithm in _KINDS if algorithm not in active]
        if missing:
            now = self._clock()
            for algorithm in missing:
                await self._add(algorithm, now)
            await self.reload()

    async def _add(self, algorithm: str, now: datetime) -> str:
        signer, jwk, raw = _KINDS[algorithm].generate()
        sealed = self._sealer.seal(raw, _associated_data(signer.kid))
        await self._repository.add(SigningKey(signer.kid, algorithm, jwk, sealed, now))
        return signer.kid

    async def reload_if_stale(self, min_interval: float = 5.0) -> bool:
        """Reload unless that happened within ``min_interval`` seconds; True when it did.

        Called when a token names an unknown key: a flood of such tokens costs at most one
        database read per interval.
        """
        if self._monotonic() - self._last_reload < min_interval:
            return False
        await self.reload()
        return True

    async def reload(self) -> None:
        """Prune expired retired keys and load the rest into the keyring."""
        self._last_reload = self._monotonic()
        now = self._clock()
        keys = []
        for key in await self._repository.list():
            if key.retired_at is not None and key.retired_at + self._publish_after_retire < now:
                await self._repository.delete(key.kid)
            elif key.algorithm in _KINDS:
                # A key of an algorithm this version does not know (one a newer version made
                # during a rolling upgrade) is neither used nor published here.
                keys.append(key)
        by_algorithm: dict[str, list[SigningKey]] = {}
        for key in keys:
            by_algorithm.setdefault(key.algorithm, []).append(key)
        signers = [self._open(self._chosen(group, now)) for group in by_algorithm.values()]
        self._keyring.load(signers, [key.public_jwk for key in keys])

    def _chosen(self, keys: list[SigningKey], now: datetime) -> SigningKey:
        # The newest active key; before any is active (a new deployment, or an algorithm new
        # to this deployment), the oldest, which has been published the longest.
        active = [k for k in keys if k.created_at + self._activation_delay <= now]
        if active:
            return max(active, key=lambda k: k.created_at)
        return min(keys, key=lambda k: k.created_at)

    def _open(self, key: SigningKey) -> Signer:
        try:
            raw = self._sealer.open(key.private_key_sealed, _associated_data(key.kid))
        except SealError:
            raise ConfigurationError(
                f"the signing key {key.kid} cannot be opened with this root key: "
                "secret_key differs from the one the keys were made with, or the stored "
                "key was altered. Fix: set AUTHGATE_SECRET_KEY to the deployment's key "
                "(the same on every node)."
            ) from None
        return _KINDS[key.algorithm].signer_from_raw(key.kid, raw)

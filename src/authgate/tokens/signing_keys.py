"""Signing-key lifecycle: publish, then sign, then publish until expiry, then prune.

``authgate keys rotate`` adds a key and marks the previous ones superseded (``retired_at``).
The new key is published at once but signs only after ``activation_delay`` — longer than
the nodes' reload period — so every node can verify it before any node signs with it
(a token naming a key this node does not hold yet also triggers one rate-limited reload).
Superseded keys keep signing until then, and stay published until every token they signed
has expired; :meth:`SigningKeyManager.reload` then deletes them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from authgate.clock import Clock
from authgate.crypto import ed25519
from authgate.crypto.sealing import Sealer, SealError
from authgate.errors import ConfigurationError
from authgate.tokens.keyring import Keyring
from authgate.tokens.models import SigningKey
from authgate.tokens.ports import SigningKeyRepository


def _associated_data(kid: str) -> bytes:
    # Binds the sealed private key to its key id: a swapped row fails to open.
    return f"authgate:signing-key:{kid}".encode()


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

    async def rotate(self) -> str:
        """Add a new signing key, retire the others; return the new key id."""
        now = self._clock()
        signer, jwk, raw = ed25519.generate()
        sealed = self._sealer.seal(raw, _associated_data(signer.kid))
        for key in await self._repository.list():
            if key.retired_at is None:
                await self._repository.retire(key.kid, now)
        await self._repository.add(SigningKey(signer.kid, "EdDSA", jwk, sealed, now))
        await self.reload()
        return signer.kid

    async def ensure_key(self) -> None:
        """Create the first key on an empty deployment, then load."""
        await self.reload()
        if not any(key.retired_at is None for key in await self._repository.list()):
            await self.rotate()

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
            else:
                keys.append(key)
        signer = None
        if keys:
            active = [k for k in keys if k.created_at + self._activation_delay <= now]
            # The newest active key; before any is active (a new deployment), the oldest,
            # which has been published the longest.
            chosen = (
                max(active, key=lambda k: k.created_at)
                if active
                else min(keys, key=lambda k: k.created_at)
            )
            try:
                raw = self._sealer.open(chosen.private_key_sealed, _associated_data(chosen.kid))
            except SealError:
                raise ConfigurationError(
                    f"the signing key {chosen.kid} cannot be opened with this root key: "
                    "secret_key differs from the one the keys were made with, or the stored "
                    "key was altered. Fix: set AUTHGATE_SECRET_KEY to the deployment's key "
                    "(the same on every node)."
                ) from None
            signer = ed25519.signer_from_raw(chosen.kid, raw)
        self._keyring.load(signer, [key.public_jwk for key in keys])

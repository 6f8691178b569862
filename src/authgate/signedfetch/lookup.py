"""The registry as the gateway reads it: keys opened once, held briefly in memory.

Every gateway request needs its container's verification key and its app's consumer
secret. Reading and unsealing them costs a query and an AES-GCM open each, so they are
kept for :data:`CACHE_SECONDS` (unknown keys too, so that a stream of made-up consumer keys
does not reach the database). A change made on this node is seen at once; one made on
another node within that time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from authgate.crypto.envelope import Envelope, bind
from authgate.signedfetch.ports import RegistryRepository
from authgate.signedfetch.registration import load_rsa_public_key
from authgate.signedfetch.registry import (
    AppKey,
    ContainerKey,
    ContainerKeyType,
    StoredApp,
    StoredContainer,
    app_context,
    container_context,
)
from authgate.signedfetch.signature import RsaVerificationKey, SharedSecret

CACHE_SECONDS = 5.0
CACHE_ENTRIES = 4096

V = TypeVar("V")


class _Expiring(Generic[V]):
    """A bounded map whose entries lapse ``ttl`` seconds after they were stored."""

    def __init__(self, ttl: float, monotonic: Callable[[], float]) -> None:
        self._ttl = ttl
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[float, V | None]] = OrderedDict()

    def get(self, key: str) -> tuple[bool, V | None]:
        found = self._entries.get(key)
        if found is None or found[0] <= self._monotonic():
            return False, None
        return True, found[1]

    def put(self, key: str, value: V | None) -> None:
        self._entries[key] = (self._monotonic() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > CACHE_ENTRIES:
            self._entries.popitem(last=False)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)


class RegistryLookup:
    """Containers by consumer key and apps by id, with their secrets opened."""

    def __init__(
        self,
        repository: RegistryRepository,
        envelope: Envelope,
        monotonic: Callable[[], float],
        *,
        ttl: float = CACHE_SECONDS,
    ) -> None:
        self._repository = repository
        self._envelope = envelope
        self._containers: _Expiring[ContainerKey] = _Expiring(ttl, monotonic)
        self._apps: _Expiring[AppKey] = _Expiring(ttl, monotonic)

    async def container(self, consumer_key: str) -> ContainerKey | None:
        """The container signing with ``consumer_key`` and its verification key, or None."""
        hit, value = self._containers.get(consumer_key)
        if hit:
            return value
        stored = await self._repository.container_by_key(consumer_key)
        key = None if stored is None else self._open_container(stored)
        self._containers.put(consumer_key, key)
        return key

    async def app(self, app_id: str) -> AppKey | None:
        """The app registered under ``app_id`` and its consumer secret, or None."""
        hit, value = self._apps.get(app_id)
        if hit:
            return value
        stored = await self._repository.get_app(app_id)
        key = None if stored is None else self._open_app(stored)
        self._apps.put(app_id, key)
        return key

    def forget_container(self, consumer_key: str) -> None:
        """Drop what is held for the consumer key (after a change on this node)."""
        self._containers.forget(consumer_key)

    def forget_app(self, app_id: str) -> None:
        """Drop what is held for the app (after a change on this node)."""
        self._apps.forget(app_id)

    def _open_container(self, stored: StoredContainer) -> ContainerKey:
        container = stored.container
        if container.key_type is ContainerKeyType.RSA:
            assert container.public_key_pem is not None
            key = load_rsa_public_key(container.public_key_pem)
            return ContainerKey(container, RsaVerificationKey(key))
        assert stored.sealed is not None
        context = container_context(container.org_id, container.id, container.secret_version)
        secret = self._envelope.open(stored.sealed, bind(*context)).decode()
        return ContainerKey(container, SharedSecret(secret))

    def _open_app(self, stored: StoredApp) -> AppKey:
        app = stored.app
        context = app_context(app.org_id, app.id, app.secret_version)
        return AppKey(app, self._envelope.open(stored.sealed, bind(*context)).decode())

"""Verifying a signed fetch on a home server, framework-neutral.

:meth:`SignedFetchVerifier.verify` runs, in order: the OAuth 1.0a checks of
:func:`authgate.signedfetch.verify.verify_request` (protocol parameters, signature method,
timestamp window, body hash, signature; an unknown key costs what a wrong signature costs),
the accepted signature methods, the identity the gateway signed (``opensocial_owner_id`` and
friends), then records the nonce (only now that the signature held) and finally calls the
provisioning hook once for a new (instance, user). :class:`AsyncSignedFetchVerifier` does the
same with stores and a hook that may be awaited, for ASGI servers.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from authgate.homeserver.errors import ReplayedNonce, UnsupportedSignatureMethod
from authgate.homeserver.identity import SignedFetch, parse_identity
from authgate.homeserver.keys import ConsumerSource, consumer_lookup
from authgate.homeserver.nonces import AsyncNonceStore, InMemoryNonceStore, NonceStore
from authgate.homeserver.users import AsyncKnownUsers, InMemoryKnownUsers, KnownUsers
from authgate.signedfetch.parameters import PROTOCOL_PREFIX
from authgate.signedfetch.signature import SignatureMethod
from authgate.signedfetch.verify import DEFAULT_WINDOW_SECONDS, verify_request

Clock = Callable[[], datetime]
ProvisioningHook = Callable[[SignedFetch], object]
"""Called with the verified request of a user seen for the first time."""
AsyncProvisioningHook = Callable[[SignedFetch], object | Awaitable[object]]

_LOCK_STRIPES = 64  # concurrent first requests of one user wait for its provisioning
_REPLAYED = "oauth_nonce was already used with this consumer key; sign each request afresh"


def utc_now() -> datetime:
    """The current time, timezone-aware (the default clock)."""
    return datetime.now(UTC)


class _Checks:
    """What both verifiers share: configuration and the checks that need no storage."""

    def __init__(
        self,
        consumers: ConsumerSource,
        *,
        window: int,
        clock: Clock,
        signature_methods: Iterable[SignatureMethod | str] | None,
    ) -> None:
        if window < 1:
            raise ValueError("the timestamp window must be at least 1 second")
        self._lookup = consumer_lookup(consumers)
        self._window = window
        self._clock = clock
        methods = signature_methods if signature_methods is not None else SignatureMethod
        self._methods = frozenset(SignatureMethod(m) for m in methods)
        if not self._methods:
            raise ValueError("accept at least one signature method")

    def _check(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[SignedFetch, int]:
        """The verified request and how long its nonce must be kept (seconds)."""
        now = self._clock()
        verified = verify_request(
            method, url, headers, body, find_consumer=self._lookup, now=now, window=self._window
        )
        if verified.signature_method not in self._methods:
            accepted = ", ".join(sorted(m.value for m in self._methods))
            raise UnsupportedSignatureMethod(
                f"this home server does not accept {verified.signature_method.value}; "
                f"sign with {accepted}"
            )
        identity = parse_identity(verified.parameters)
        fetch = SignedFetch(
            owner_id=identity.owner_id,
            user_id=identity.user_id,
            instance_id=identity.instance_id,
            app_id=identity.app_id,
            app_url=identity.app_url,
            viewer_id=identity.viewer_id,
            viewer_user_id=identity.viewer_user_id,
            consumer_key=verified.consumer_key,
            signature_method=verified.signature_method.value,
            timestamp=verified.timestamp,
            nonce=verified.nonce,
            parameters=tuple(
                (name, value)
                for name, value in verified.parameters
                if not name.startswith(PROTOCOL_PREFIX)
            ),
        )
        # Past timestamp + window the timestamp check refuses a replay by itself.
        ttl = verified.timestamp + self._window - int(now.timestamp()) + 1
        return fetch, max(ttl, 1)

    @staticmethod
    def _stripe(fetch: SignedFetch) -> int:
        return hash((fetch.instance_id, fetch.user_id)) % _LOCK_STRIPES


class SignedFetchVerifier(_Checks):
    """Verifies signed fetches forwarded by a gateway; one instance serves every thread.

    ``consumers`` maps consumer keys to HMAC secrets (``str``) or RSA public keys (see
    :mod:`authgate.homeserver.keys`), or is a function looking one up. ``window`` is the
    allowed clock skew of ``oauth_timestamp`` in seconds; ``clock`` gives the current time.
    ``nonces`` defaults to an :class:`InMemoryNonceStore` (one process). ``on_new_user`` is
    called with the :class:`SignedFetch` once per (instance, user) that ``known_users`` has not
    seen (default :class:`InMemoryKnownUsers`); if it raises, the request fails and the next
    one calls it again.
    """

    def __init__(
        self,
        consumers: ConsumerSource,
        *,
        window: int = DEFAULT_WINDOW_SECONDS,
        clock: Clock = utc_now,
        nonces: NonceStore | None = None,
        known_users: KnownUsers | None = None,
        on_new_user: ProvisioningHook | None = None,
        signature_methods: Iterable[SignatureMethod | str] | None = None,
    ) -> None:
        super().__init__(consumers, window=window, clock=clock, signature_methods=signature_methods)
        self._nonces: NonceStore = nonces if nonces is not None else InMemoryNonceStore()
        self._known: KnownUsers = known_users if known_users is not None else InMemoryKnownUsers()
        self._on_new_user = on_new_user
        self._locks = [threading.Lock() for _ in range(_LOCK_STRIPES)]

    def verify(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> SignedFetch:
        """The verified signed fetch of this request, or an :class:`AuthgateError` to answer.

        ``url`` is the absolute URL the gateway addressed (scheme, host, port as it saw
        them, path and query); ``headers`` at least ``Authorization`` and ``Content-Type``.
        """
        fetch, ttl = self._check(method, url, headers, body)
        if not self._nonces.record(fetch.consumer_key, fetch.nonce, ttl):
            raise ReplayedNonce(_REPLAYED)
        if self._on_new_user is not None:
            self._provision(fetch, self._on_new_user)
        return fetch

    def _provision(self, fetch: SignedFetch, hook: ProvisioningHook) -> None:
        with self._locks[self._stripe(fetch)]:
            if not self._known.add(fetch.instance_id, fetch.user_id):
                return
            try:
                hook(fetch)
            except BaseException:
                self._known.discard(fetch.instance_id, fetch.user_id)
                raise


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class AsyncSignedFetchVerifier(_Checks):
    """:class:`SignedFetchVerifier` for ASGI servers: stores and hook may be awaitable.

    ``nonces`` may be an :class:`~authgate.homeserver.nonces.AsyncRedisNonceStore` (or any
    store whose ``record`` is a coroutine) and ``known_users`` and ``on_new_user`` may be
    coroutine functions, so a database call never blocks the event loop. Synchronous stores
    and hooks work too; they run on the event loop.
    """

    def __init__(
        self,
        consumers: ConsumerSource,
        *,
        window: int = DEFAULT_WINDOW_SECONDS,
        clock: Clock = utc_now,
        nonces: NonceStore | AsyncNonceStore | None = None,
        known_users: KnownUsers | AsyncKnownUsers | None = None,
        on_new_user: AsyncProvisioningHook | None = None,
        signature_methods: Iterable[SignatureMethod | str] | None = None,
    ) -> None:
        super().__init__(consumers, window=window, clock=clock, signature_methods=signature_methods)
        self._nonces: NonceStore | AsyncNonceStore = (
            nonces if nonces is not None else InMemoryNonceStore()
        )
        self._known: KnownUsers | AsyncKnownUsers = (
            known_users if known_users is not None else InMemoryKnownUsers()
        )
        self._on_new_user = on_new_user
        self._locks = [asyncio.Lock() for _ in range(_LOCK_STRIPES)]

    async def verify(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> SignedFetch:
        """The verified signed fetch of this request, or an :class:`AuthgateError` to answer."""
        fetch, ttl = self._check(method, url, headers, body)
        if not await _resolve(self._nonces.record(fetch.consumer_key, fetch.nonce, ttl)):
            raise ReplayedNonce(_REPLAYED)
        if self._on_new_user is not None:
            await self._provision(fetch, self._on_new_user)
        return fetch

    async def _provision(self, fetch: SignedFetch, hook: AsyncProvisioningHook) -> None:
        async with self._locks[self._stripe(fetch)]:
            if not await _resolve(self._known.add(fetch.instance_id, fetch.user_id)):
                return
            try:
                await _resolve(hook(fetch))
            except BaseException:
                await _resolve(self._known.discard(fetch.instance_id, fetch.user_id))
                raise

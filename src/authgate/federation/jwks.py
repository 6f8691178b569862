"""IdPs' signing keys (RFC 7517 JWK sets), cached per ``jwks_uri``.

A set is fetched on first use and again once it is older than ``max_age``. A token signed
with a key the cached set does not hold (the IdP rotated its keys) causes one refetch, at
most one per ``refetch_interval`` per set: tokens with made-up key ids cannot make authgate
hammer an IdP. Concurrent callers share one fetch. If a refetch fails, the keys already
held keep working.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from authgate.federation.errors import IdpUnavailable

Fetch = Callable[[str], Awaitable[Mapping[str, Any]]]
Key = RSAKey | ECKey | OKPKey
MAX_KEYS = 100
MIN_RSA_BITS = 2048
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


@dataclass(frozen=True, slots=True)
class _KeySet:
    keys: tuple[tuple[str | None, str | None, Key], ...]
    """(kid, alg, key) of every usable signing key."""
    fetched_at: datetime

    def find(self, kid: str | None, alg: str) -> Key | None:
        kty = _KEY_TYPES.get(alg[:2])
        matches = [
            key
            for key_id, key_alg, key in self.keys
            if key.key_type == kty and key_alg in (None, alg) and (kid is None or key_id == kid)
        ]
        # Without a kid the choice must be unambiguous (OpenID Connect Core §10.1).
        return matches[0] if len(matches) == 1 or (kid is not None and matches) else None


def parse_jwks(document: Mapping[str, Any], fetched_at: datetime) -> _KeySet:
    """The usable signing keys of a JWK set; keys for encryption, symmetric keys, private
    keys, weak RSA keys and malformed keys are left out."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise IdpUnavailable("the IdP's JWK set has no 'keys' list")
    usable: list[tuple[str | None, str | None, Key]] = []
    for entry in entries[:MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC", "OKP") or "d" in entry:
            continue
        kid, alg = entry.get("kid"), entry.get("alg")
        if (kid is not None and not isinstance(kid, str)) or (
            alg is not None and not isinstance(alg, str)
        ):
            continue
        try:
            with warnings.catch_warnings():
                # joserfc warns of weak keys: they are refused just below.
                warnings.simplefilter("ignore", SecurityWarning)
                key = import_key(entry)
        except (JoseError, ValueError, TypeError):
            continue
        if isinstance(key, RSAKey) and key.raw_value.key_size < MIN_RSA_BITS:
            continue
        if isinstance(key, RSAKey | ECKey | OKPKey):
            usable.append((kid, alg, key))
    return _KeySet(tuple(usable), fetched_at)


class JwksCache:
    """Signing keys by ``jwks_uri``, refreshed on age and, rate-limited, on an unknown kid."""

    def __init__(
        self,
        fetch: Fetch,
        clock: Callable[[], datetime],
        *,
        max_age: timedelta = timedelta(hours=1),
        refetch_interval: timedelta = timedelta(minutes=1),
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._max_age = max_age
        self._refetch_interval = refetch_interval
        self._sets: dict[str, _KeySet] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def key(self, jwks_uri: str, kid: str | None, alg: str) -> Key | None:
        """The key that verifies a token signed with ``alg`` by ``kid``, or None."""
        now = self._clock()
        held = self._sets.get(jwks_uri)
        if held is None or now - held.fetched_at > self._max_age:
            held = await self._refresh(jwks_uri, held)
        found = held.find(kid, alg)
        if found is None and now - held.fetched_at >= self._refetch_interval:
            held = await self._refresh(jwks_uri, held)
            found = held.find(kid, alg)
        return found

    def forget(self, jwks_uri: str) -> None:
        """Drop a set (its IdP's configuration changed)."""
        self._sets.pop(jwks_uri, None)

    async def _refresh(self, jwks_uri: str, seen: _KeySet | None) -> _KeySet:
        lock = self._locks.setdefault(jwks_uri, asyncio.Lock())
        async with lock:
            current = self._sets.get(jwks_uri)
            if current is not None and current is not seen:
                return current  # another caller refreshed it meanwhile
            try:
                fetched = parse_jwks(await self._fetch(jwks_uri), self._clock())
            except IdpUnavailable:
                if current is None:
                    raise
                # Keep the keys we hold, and wait a full interval before trying again.
                fetched = _KeySet(current.keys, self._clock())
            self._sets[jwks_uri] = fetched
            return fetched

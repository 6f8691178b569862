"""The IdPs as a login needs them: the configuration, its metadata (discovered and cached),
its client secret (opened from the vault's envelope in memory), and its signing keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from authgate.crypto.envelope import Envelope, SealedSecret, bind
from authgate.federation.errors import IdpUnavailable, InvalidIdpConfig, UnknownIdp
from authgate.federation.jwks import JwksCache, Key
from authgate.federation.metadata import (
    ProviderMetadata,
    discovery_url,
    from_endpoints,
    parse_document,
)
from authgate.federation.models import Endpoints, IdpConfig, IdpType
from authgate.federation.ports import FederationRepository, IdpClient

METADATA_MAX_AGE = timedelta(hours=1)
MAX_CACHED_VERSIONS = 1024
FAILURE_PAUSE = timedelta(seconds=30)
"""After the metadata could not be read, answer from the failure for this long (discovery
and logins must not each wait for an unreachable IdP)."""
SECRET_ROW = "sso_idp"


def secret_context(org_id: str, idp_id: str, secret_version: int) -> tuple[str, ...]:
    """What an IdP's sealed client secret is bound to: moved to another row, it fails to open."""
    return (SECRET_ROW, org_id, idp_id, str(secret_version))


class IdpDirectory:
    """IdP configurations with their metadata, secrets and keys."""

    def __init__(
        self,
        repository: FederationRepository,
        client: IdpClient,
        envelope: Envelope,
        clock: Callable[[], datetime],
        *,
        metadata_max_age: timedelta = METADATA_MAX_AGE,
    ) -> None:
        self._repository = repository
        self._client = client
        self._envelope = envelope
        self._clock = clock
        self._max_age = metadata_max_age
        self._metadata: dict[tuple[str, int], tuple[ProviderMetadata, datetime]] = {}
        self._versions: dict[tuple[str, int], IdpConfig] = {}
        self._failures: dict[tuple[str, int], tuple[str, datetime]] = {}
        self.jwks = JwksCache(lambda uri: client.fetch_json(uri, "JWK set"), clock)

    async def idp(self, idp_id: str) -> IdpConfig:
        """An enabled IdP by id, or :class:`UnknownIdp`."""
        found = await self._repository.get_idp(idp_id) if len(idp_id) <= 64 else None
        if found is None or not found.enabled:
            raise UnknownIdp(
                "no such identity provider, or it is disabled; ask POST /v1/sso/discover "
                "with your email which ones you can use"
            )
        return found

    async def version(self, idp_id: str, version: int, *, fresh: bool = False) -> IdpConfig | None:
        """The IdP as it was at ``version`` if that is (or, from the cache, was lately) its
        current version and it is enabled; None otherwise. A version never changes once
        stored, so a cached one is exact; whether it is still current the caller checks with
        its next read (or asks ``fresh``)."""
        cached = None if fresh else self._versions.get((idp_id, version))
        if cached is not None:
            return cached
        found = await self._repository.get_idp(idp_id) if len(idp_id) <= 64 else None
        if found is None or not found.enabled or found.version != version:
            return None
        if len(self._versions) >= MAX_CACHED_VERSIONS:
            self._versions.pop(next(iter(self._versions)))
        self._versions[(idp_id, version)] = found
        return found

    async def metadata(self, idp: IdpConfig) -> ProviderMetadata:
        """The IdP's metadata (cached for an hour per configuration version)."""
        now = self._clock()
        cached = self._metadata.get((idp.id, idp.version))
        if cached is not None and now - cached[1] < self._max_age:
            return cached[0]
        failed = self._failures.get((idp.id, idp.version))
        if failed is not None and now - failed[1] < FAILURE_PAUSE:
            raise IdpUnavailable(failed[0])  # asked again within the pause: no new request
        try:
            found = await self.discover(idp.type, idp.issuer, idp.endpoints)
        except InvalidIdpConfig as exc:
            message = f"the IdP's metadata is not usable: {exc.message}"
            self._failures[(idp.id, idp.version)] = (message, now)
            raise IdpUnavailable(message) from None
        except IdpUnavailable as exc:
            self._failures[(idp.id, idp.version)] = (exc.message, now)
            raise
        self._failures.pop((idp.id, idp.version), None)
        self._metadata = {key: value for key, value in self._metadata.items() if key[0] != idp.id}
        self._metadata[(idp.id, idp.version)] = (found, now)
        return found

    async def discover(
        self, idp_type: IdpType, issuer: str, endpoints: Endpoints | None
    ) -> ProviderMetadata:
        """The metadata of an issuer: from explicit endpoints, or fetched (OpenID Connect
        Discovery); :class:`InvalidIdpConfig` when it is not usable."""
        if endpoints is not None:
            return from_endpoints(idp_type, issuer, endpoints)
        document = await self._client.fetch_json(discovery_url(issuer), "metadata")
        return parse_document(document, idp_type, issuer)

    def client_secret(self, idp: IdpConfig) -> str:
        """The client secret, opened in memory for one request to the token endpoint."""
        context = bind(*secret_context(idp.org_id, idp.id, idp.secret_version))
        return self._envelope.open(idp.secret, context).decode("utf-8")

    def seal_secret(
        self, org_id: str, idp_id: str, secret_version: int, secret: str
    ) -> SealedSecret:
        """A client secret sealed under a fresh data key for the IdP's row."""
        context = bind(*secret_context(org_id, idp_id, secret_version))
        return self._envelope.seal(secret.encode("utf-8"), context)

    async def find_key(self, jwks_uri: str, kid: str | None, alg: str) -> Key | None:
        """The IdP key that verifies a token (see :class:`JwksCache`)."""
        return await self.jwks.key(jwks_uri, kid, alg)

    def forget(self, idp: IdpConfig) -> None:
        """Drop what is cached of a changed or removed IdP."""
        self._metadata = {key: value for key, value in self._metadata.items() if key[0] != idp.id}
        self._versions = {key: value for key, value in self._versions.items() if key[0] != idp.id}
        self._failures = {key: value for key, value in self._failures.items() if key[0] != idp.id}

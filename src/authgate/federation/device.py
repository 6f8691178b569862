"""The device-run loop: the device runs the authorization code flow with the IdP itself and
exchanges the IdP's ID token for authgate's tokens.

:meth:`DeviceLogin.start` gives the device the IdP's public configuration and a fresh nonce
(single use, expiring in ten minutes, bound to the IdP). The device sends that nonce in its
authorization request; :meth:`DeviceLogin.exchange` takes the nonce back with the ID token,
which must carry it and be issued to the device's client at that IdP. A stolen ID token is
therefore useless without an unspent nonce of authgate's, and each nonce works once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from authgate.crypto.randomness import new_secret
from authgate.federation.errors import InvalidSsoState
from authgate.federation.logins import LoginDeps
from authgate.federation.metadata import ProviderMetadata
from authgate.federation.models import IdpConfig, LoginKind, LoginTransaction
from authgate.identity.deps import Actor
from authgate.tokens.responses import TokenResponse
from authgate.tokens.sessions import DEVICE_CLIENT_ID

NONCE_TTL = timedelta(minutes=10)
MAX_NONCE_CHARS = 256
UNKNOWN_NONCE = (
    "the nonce is unknown, already used, expired or another identity provider's; ask "
    "POST /v1/sso/device/start for a new one"
)


@dataclass(frozen=True, slots=True)
class DeviceStart:
    """What a device needs to run the loop with the IdP."""

    idp: IdpConfig
    metadata: ProviderMetadata
    nonce: str
    expires_in: int


class DeviceLogin:
    """Hands out nonces and exchanges ID tokens for sessions."""

    def __init__(self, deps: LoginDeps) -> None:
        self._deps = deps

    async def start(self, idp_id: str, actor: Actor) -> DeviceStart:
        """A nonce for one device-run login with the IdP."""
        idp = await self._deps.directory.idp(idp_id)
        metadata = await self._deps.directory.metadata(idp)
        nonce = new_secret()
        now = self._deps.identity.now()
        await self._deps.repository.add_transaction(
            LoginTransaction(
                state_hash=self._deps.derived("device nonce", nonce),
                kind=LoginKind.DEVICE,
                idp_id=idp.id,
                org_id=idp.org_id,
                idp_version=idp.version,
                created_at=now,
                expires_at=now + NONCE_TTL,
            )
        )
        await self._deps.identity.audit(
            "sso.start", actor, org_id=idp.org_id, subject=idp.id, kind=LoginKind.DEVICE.value
        )
        return DeviceStart(idp, metadata, nonce, int(NONCE_TTL.total_seconds()))

    async def exchange(self, idp_id: str, id_token: str, nonce: str, actor: Actor) -> TokenResponse:
        """authgate's tokens for the IdP's ID token (which must carry the nonce)."""
        found = None
        if nonce and len(nonce) <= MAX_NONCE_CHARS:
            found = await self._deps.repository.take_transaction(
                self._deps.derived("device nonce", nonce), self._deps.identity.now()
            )
        if found is None or found.kind is not LoginKind.DEVICE or found.idp_id != idp_id:
            raise InvalidSsoState(UNKNOWN_NONCE)
        # The admission below re-reads the IdP's version with the person.
        idp = await self._deps.directory.version(found.idp_id, found.idp_version)
        if idp is None:
            raise InvalidSsoState(
                "the identity provider's configuration changed during the sign-in; start again"
            )
        metadata = await self._deps.directory.metadata(idp)
        try:
            claims = await self._deps.validated(
                idp, metadata, id_token, audience=idp.device_audience, nonce=nonce
            )
            admission = await self._deps.provisioner.admit(idp, claims, actor)
        except Exception:
            await self._deps.identity.audit(
                "sso.exchange", actor, org_id=idp.org_id, subject=idp.id, outcome="failure"
            )
            raise
        return await self._deps.sign_in(admission, idp.id, actor, client_id=DEVICE_CLIENT_ID)

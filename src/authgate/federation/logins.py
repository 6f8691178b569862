"""What both ways of running the loop share: validating the IdP's ID token for a login, and
turning an admitted person into an authgate session bound to the IdP that vouched for them."""

from __future__ import annotations

from dataclasses import dataclass

from authgate.federation.directory import IdpDirectory
from authgate.federation.id_token import Expected, validate
from authgate.federation.metadata import ProviderMetadata
from authgate.federation.models import IdpConfig, IdTokenClaims
from authgate.federation.ports import FederationRepository, IdpClient
from authgate.federation.provisioning import Admission, Provisioner
from authgate.federation.redirects import AppRedirects
from authgate.identity.deps import Actor, IdentityDeps
from authgate.tokens.ports import RefreshTokenRepository
from authgate.tokens.responses import TokenResponse
from authgate.tokens.sessions import SessionService

CALLBACK_PATH = "/v1/sso/callback"
"""authgate's redirect URI at every IdP, under its public URL."""


@dataclass(frozen=True, slots=True)
class LoginDeps:
    """Built once in ``authgate.app`` and shared by the login services."""

    identity: IdentityDeps
    repository: FederationRepository
    directory: IdpDirectory
    client: IdpClient
    provisioner: Provisioner
    sessions: SessionService
    families: RefreshTokenRepository
    redirects: AppRedirects
    callback_url: str
    """authgate's redirect URI at every IdP (``{public URL}/v1/sso/callback``)."""
    issuer: str
    """authgate's own issuer, sent to apps as RFC 9207 ``iss``."""

    def derived(self, purpose: str, state: str) -> str:
        """A value derived from a login's state with the server key (43 base64url
        characters): unguessable without the key even to someone who saw the state."""
        return self.identity.keyed.digest(f"sso {purpose}\x00{state}")

    async def validated(
        self,
        idp: IdpConfig,
        metadata: ProviderMetadata,
        id_token: str,
        *,
        audience: str,
        nonce: str | None,
    ) -> IdTokenClaims:
        """The claims of the IdP's ID token for this login (see :mod:`.id_token`)."""
        expected = Expected(
            idp_type=idp.type,
            metadata=metadata,
            audience=audience,
            nonce=nonce,
            tenants=frozenset(idp.tenants),
            now=self.identity.now(),
        )
        return await validate(id_token, expected, self.directory.find_key)

    async def sign_in(
        self,
        admission: Admission,
        idp_id: str,
        actor: Actor,
        *,
        client_id: str,
        session_id: str | None = None,
    ) -> TokenResponse:
        """A session for the admitted person, ended when the IdP's configuration changes
        (its ``signin`` audit event names the IdP)."""
        return await self.sessions.start(
            admission.user,
            admission.org,
            admission.membership,
            actor,
            client_id=client_id,
            idp_id=idp_id,
            session_id=session_id,
        )

"""Ending an SSO session: authgate's session at once, and the IdP's where it supports it
(OpenID Connect RP-Initiated Logout 1.0 §2: the device opens the end-session URL).

Also the password policy of organizations that enforce SSO.
"""

from __future__ import annotations

from authgate.federation.errors import IdpUnavailable, SsoRequired
from authgate.federation.logins import LoginDeps
from authgate.federation.ports import FederationRepository
from authgate.federation.redirects import with_query
from authgate.identity.deps import Actor
from authgate.tokens.sessions import DEVICE_CLIENT_ID


class RpLogout:
    """Ends a session and says where the IdP's session ends."""

    def __init__(self, deps: LoginDeps) -> None:
        self._deps = deps

    async def logout(
        self, session_id: str, actor: Actor, post_logout_redirect_uri: str | None = None
    ) -> str | None:
        """End the session; the IdP's end-session URL when an IdP started it and supports
        RP-initiated logout, else None. ``post_logout_redirect_uri`` must be one of the
        app's registered redirect URIs (and registered at the IdP)."""
        if post_logout_redirect_uri is not None:
            self._deps.redirects.check(DEVICE_CLIENT_ID, post_logout_redirect_uri)
        family = await self._deps.families.get_family(session_id)
        await self._deps.sessions.end(session_id, actor)
        if family is None or family.idp_id is None:
            return None
        idp = await self._deps.repository.get_idp(family.idp_id)
        if idp is None:
            return None
        try:
            metadata = await self._deps.directory.metadata(idp)
        except IdpUnavailable:
            return None
        if metadata.end_session_endpoint is None:
            return None
        params = [("client_id", idp.client_id)]
        if post_logout_redirect_uri is not None:
            params.append(("post_logout_redirect_uri", post_logout_redirect_uri))
        return with_query(metadata.end_session_endpoint, params)


class SsoPasswordPolicy:
    """:class:`authgate.tokens.ports.PasswordSignInPolicy`: refuses passwords where the
    organization enforces SSO (and, for authgate's own pages, sign-ins through another
    organization's IdP)."""

    def __init__(self, repository: FederationRepository) -> None:
        self._repository = repository

    async def accepts_federated(self, org_id: str, idp_id: str) -> bool:
        """Whether a sign-in through ``idp_id`` counts for ``org_id``: through the
        organization's own IdP always, through another's only where a password would do."""
        idp = await self._repository.get_idp(idp_id)
        if idp is not None and idp.org_id == org_id:
            return True
        settings = await self._repository.get_settings(org_id)
        return settings is None or not settings.enforce_sso

    async def check_password_sign_in(self, org_id: str) -> None:
        """:class:`SsoRequired` when the organization signs its members in through its IdP."""
        settings = await self._repository.get_settings(org_id)
        if settings is not None and settings.enforce_sso:
            raise SsoRequired(
                "this organization signs you in through its identity provider: ask "
                "POST /v1/sso/discover with your email where to start"
            )

"""SSO federation: organizations sign their people in through their own IdP (Entra ID, Okta,
any OpenID Connect provider).

Pure domain: the IdP's HTTP endpoints are reached through :class:`ports.IdpClient` (the
egress client) and storage through :class:`ports.FederationRepository`. :class:`Federation`
holds the services ``authgate.app`` wires.
"""

from __future__ import annotations

from dataclasses import dataclass

from authgate.federation.admin import IdpAdmin
from authgate.federation.brokered import BrokeredLogin
from authgate.federation.device import DeviceLogin
from authgate.federation.directory import IdpDirectory
from authgate.federation.discovery import HomeRealm
from authgate.federation.logins import LoginDeps
from authgate.federation.logout import RpLogout, SsoPasswordPolicy


@dataclass(frozen=True, slots=True)
class Federation:
    """Every SSO service, wired once per process."""

    admin: IdpAdmin
    realm: HomeRealm
    brokered: BrokeredLogin
    device: DeviceLogin
    logout: RpLogout
    directory: IdpDirectory

    @classmethod
    def build(cls, deps: LoginDeps) -> Federation:
        """The services over one set of dependencies."""
        return cls(
            admin=IdpAdmin(deps.identity, deps.repository, deps.directory),
            realm=HomeRealm(deps.identity, deps.repository, deps.directory),
            brokered=BrokeredLogin(deps),
            device=DeviceLogin(deps),
            logout=RpLogout(deps),
            directory=deps.directory,
        )


__all__ = ["Federation", "LoginDeps", "SsoPasswordPolicy"]

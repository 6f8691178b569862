"""What the HTTP layer needs from the rest of authgate, built by ``authgate.app``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from authgate.config import Settings
from authgate.federation import Federation
from authgate.functions.calls import FunctionCalls
from authgate.functions.device_credentials import DeviceCredentials
from authgate.functions.ports import ResolvedCredential
from authgate.functions.solutions import SolutionService
from authgate.identity.accounts import AccountService
from authgate.identity.deps import IdentityDeps
from authgate.identity.invites import InviteService
from authgate.identity.join_requests import JoinRequestService
from authgate.identity.organizations import OrganizationService
from authgate.provider.clients import ClientRegistry
from authgate.provider.consents import ConsentService
from authgate.provider.service import Provider
from authgate.signedfetch.admin import RegistryAdmin
from authgate.signedfetch.gateway import Gateway
from authgate.signedfetch.ports import HomeServers
from authgate.tokens.access import AccessTokens
from authgate.tokens.clients import ServiceClients
from authgate.tokens.device_authorization import DeviceAuthorizations
from authgate.tokens.introspection import Introspector
from authgate.tokens.keyring import Keyring
from authgate.tokens.sessions import SessionService
from authgate.vault.connections import ConnectionService
from authgate.vault.service import VaultService


@dataclass(frozen=True, slots=True)
class Services:
    """Every domain service, wired once per process."""

    settings: Settings
    deps: IdentityDeps
    accounts: AccountService
    organizations: OrganizationService
    invites: InviteService
    join_requests: JoinRequestService
    sessions: SessionService
    clients: ServiceClients
    introspector: Introspector
    access: AccessTokens
    keyring: Keyring
    ping_database: Callable[[], Awaitable[None]]
    vault: VaultService[ResolvedCredential]
    connections: ConnectionService
    solutions: SolutionService
    calls: FunctionCalls
    registry: RegistryAdmin
    gateway: Gateway
    home_servers: HomeServers
    # Device sign-in (RFC 8628) and the credentials of local functions.
    device_authorizations: DeviceAuthorizations | None = None
    device_credentials: DeviceCredentials | None = None
    # SSO federation: organizations' IdPs.
    federation: Federation | None = None
    # authgate as an OAuth 2.0 / OpenID provider for registered apps.
    provider: Provider | None = None
    consents: ConsentService | None = None
    oauth_clients: ClientRegistry | None = None

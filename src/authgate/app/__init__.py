"""The one place where adapters are built and wired into the domain.

:func:`build_runtime` opens the store (migrating the embedded SQLite database), loads the
root key, the signing keys, the mailer and the throttle counters, and builds every service.
:func:`create_app` wraps that in the ASGI application that ``authgate serve`` runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
import structlog
from fastapi import FastAPI
from starlette.types import ASGIApp

from authgate.app.background import KEY_RELOAD_SECONDS, start_background
from authgate.clock import Clock, utc_now
from authgate.config import Settings
from authgate.crypto.envelope import Envelope
from authgate.crypto.keyed_hash import KeyedHasher
from authgate.crypto.passwords import Argon2Hasher
from authgate.crypto.root_key import derive_key, load_or_create_root_key
from authgate.crypto.sealing import Sealer
from authgate.egress import EgressClient, build_egress_client
from authgate.egress.home_servers import EgressHomeServers
from authgate.egress.oauth_tokens import EgressTokenClient
from authgate.egress.oidc_client import EgressIdpClient
from authgate.errors import ConfigurationError
from authgate.federation import Federation, LoginDeps, SsoPasswordPolicy
from authgate.federation.directory import IdpDirectory
from authgate.federation.logins import CALLBACK_PATH as SSO_CALLBACK_PATH
from authgate.federation.provisioning import Provisioner
from authgate.federation.redirects import AppRedirects
from authgate.functions.call import CallLimits
from authgate.functions.calls import FunctionCalls
from authgate.functions.device_credentials import DeviceCredentials
from authgate.functions.engine import FunctionEngine
from authgate.functions.ports import (
    CredentialKind,
    CredentialResolver,
    ResolvedCredential,
    SolutionMember,
    SolutionRole,
)
from authgate.functions.solutions import SolutionService
from authgate.functions.sql_engine import SqlFunctionEngine
from authgate.functions.sql_ports import SqlConnectionResolver
from authgate.http.application import build_asgi, build_fastapi
from authgate.http.routes.device_sso import DEVICE_PAGE_SSO_CLIENT, DEVICE_SSO_RETURN_PATH
from authgate.http.services import Services
from authgate.identity.accounts import AccountService
from authgate.identity.deps import Actor, IdentityDeps
from authgate.identity.invites import InviteService
from authgate.identity.join_requests import JoinRequestService
from authgate.identity.organizations import OrganizationService
from authgate.identity.ports import AttemptCounter
from authgate.identity.signin import Authenticator
from authgate.identity.throttle import SignInThrottle
from authgate.mail import BackgroundMailer, SmtpMailer, build_mailer
from authgate.provider.assembly import build_provider
from authgate.provider.browser_sessions import EndingBrowserSessionsToo
from authgate.provider.clients import ClientRegistry
from authgate.provider.consents import ConsentService
from authgate.provider.device import DeviceGrantClients
from authgate.provider.service import PROVIDER_SSO_CLIENT, SSO_RETURN_PATH
from authgate.signedfetch.admin import RegistryAdmin
from authgate.signedfetch.gateway import Gateway
from authgate.signedfetch.lookup import RegistryLookup
from authgate.sqlproxy import SqlProxy, build_sql_proxy, sql_limits
from authgate.store.attempts import MemoryAttemptCounter, RedisAttemptCounter
from authgate.store.migrate import is_up_to_date
from authgate.store.nonces import RedisNonceStore
from authgate.store.sql import SqlStore, open_store
from authgate.store.vault import SqlVaultRepository
from authgate.tokens.access import AccessTokens
from authgate.tokens.clients import ServiceClients
from authgate.tokens.device_authorization import DeviceAuthorizations
from authgate.tokens.introspection import Introspector
from authgate.tokens.keyring import Keyring
from authgate.tokens.sessions import DEVICE_CLIENT_ID, SessionService
from authgate.tokens.signing_keys import SigningKeyManager
from authgate.vault.connections import ConnectionService
from authgate.vault.device import DeviceCredentialIssuer
from authgate.vault.keys import envelope_from_settings
from authgate.vault.models import UsableCredential
from authgate.vault.service import VaultService

log = structlog.get_logger("authgate")
KEY_ACTIVATION_SECONDS = KEY_RELOAD_SECONDS + 10
ACCESS_AUDIENCE = "authgate"


@dataclass
class Runtime:
    """Everything one process holds open; :meth:`close` releases it."""

    services: Services
    store: SqlStore
    keys: SigningKeyManager
    hasher: Argon2Hasher
    egress: EgressClient
    redis: aioredis.Redis | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    sql: SqlProxy | None = None

    async def close(self) -> None:
        """Stop background work and close connections."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if isinstance(self.services.deps.mailer, BackgroundMailer):
            await self.services.deps.mailer.drain()
        if self.redis is not None:
            await self.redis.aclose()
        await self.egress.aclose()
        if self.sql is not None:
            await self.sql.aclose()
        await self.store.close()
        self.hasher.close()


async def open_database(settings: Settings) -> SqlStore:
    """The store; SQLite is migrated at start, PostgreSQL must be migrated explicitly."""
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return await open_store(settings.database, migrate=True)
    if not await is_up_to_date(settings.database):
        raise ConfigurationError(
            "the database schema is not up to date; run `authgate migrate` with the same "
            "AUTHGATE_DATABASE_URL first"
        )
    return await open_store(
        settings.database,
        # Every connection, once opened, is kept: a pool that closes its overflow connections
        # when they come back opens new ones under the next burst, and each costs milliseconds.
        pool_size=settings.database_pool_size + settings.database_max_overflow,
        max_overflow=0,
    )


async def build_runtime(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    """Open every adapter and wire every service."""
    root = load_or_create_root_key(
        settings.secret_key.get_secret_value() if settings.secret_key else None,
        settings.data_dir,
        may_create=settings.is_sqlite,
    )
    store = await open_database(settings)
    redis_client = aioredis.from_url(settings.redis_url) if settings.redis_url else None
    counter: AttemptCounter = (
        RedisAttemptCounter(redis_client) if redis_client else MemoryAttemptCounter(clock)
    )
    hasher = Argon2Hasher(
        memory_kib=settings.argon2_memory_kib,
        time_cost=settings.argon2_time_cost,
        parallelism=settings.argon2_parallelism,
    )
    mailer = build_mailer(settings)
    if isinstance(mailer, SmtpMailer):
        # Off the request path: SMTP latency must not reveal whether a message was sent.
        mailer = BackgroundMailer(mailer)
    deps = IdentityDeps(
        store=store,
        hasher=hasher,
        mailer=mailer,
        keyed=KeyedHasher(derive_key(root, "authgate keyed hash v1")),
        sessions=EndingBrowserSessionsToo(store.refresh_tokens, store.browser_sessions),
        clock=clock,
        public_url=settings.issuer,
        invite_ttl=settings.invite_ttl,
        verification_ttl=settings.verification_ttl,
        reset_ttl=settings.reset_ttl,
    )
    keyring = Keyring()
    keys = SigningKeyManager(
        store.signing_keys,
        Sealer(derive_key(root, "authgate signing-key sealing v1")),
        keyring,
        clock,
        publish_after_retire=settings.access_token_ttl + 300,
        activation_delay=KEY_ACTIVATION_SECONDS,
    )
    await keys.ensure_key()
    access = AccessTokens(
        issuer=settings.issuer,
        audience=ACCESS_AUDIENCE,
        ttl=settings.access_token_ttl,
        keyring=keyring,
        clock=clock,
    )
    throttle = SignInThrottle(
        counter,
        account_limit=settings.signin_account_limit,
        ip_limit=settings.signin_ip_limit,
        window=settings.signin_window,
    )
    sessions = SessionService(
        deps,
        Authenticator(deps, throttle),
        access,
        store.refresh_tokens,
        absolute_ttl=settings.refresh_token_ttl,
        idle_ttl=settings.refresh_idle_ttl,
        password_policy=SsoPasswordPolicy(store.federation),
    )
    envelope = envelope_from_settings(settings, root)
    egress = build_egress_client(settings)
    connections = ConnectionService(
        deps, store.vault, store.vault.connections, envelope, EgressTokenClient(egress)
    )
    vault = VaultService(deps, store.vault, envelope, _for_functions, connections=connections)
    engine = FunctionEngine(
        egress, sleep=asyncio.sleep, monotonic=time.monotonic, limits=call_limits(settings)
    )
    solutions = SolutionService(deps, store.solutions, _VaultDirectory(store.vault))
    sql = build_sql_proxy(settings)
    lookup = RegistryLookup(store.signed_fetch, envelope, time.monotonic)
    # One registry per process: the provider's endpoints and the admin API share its cache.
    oauth_clients = ClientRegistry(deps, store.oauth_clients)
    consents = ConsentService(deps, store.consents, store.oauth_clients)
    services = Services(
        settings=settings,
        deps=deps,
        accounts=AccountService(deps),
        organizations=OrganizationService(deps),
        invites=InviteService(deps),
        join_requests=JoinRequestService(deps),
        sessions=sessions,
        clients=ServiceClients(deps, store.service_clients, access),
        introspector=Introspector(deps, access, store.refresh_tokens),
        access=access,
        keyring=keyring,
        ping_database=store.ping,
        vault=vault,
        connections=connections,
        solutions=solutions,
        calls=FunctionCalls(
            solutions,
            engine,
            _VaultResolvers(vault),
            sql=SqlFunctionEngine(
                sql,
                monotonic=time.monotonic,
                limits=call_limits(settings),
                sql_limits=sql_limits(settings),
            ),
            sql_connections=_VaultSqlConnections(vault),
        ),
        registry=RegistryAdmin(deps, store.signed_fetch, envelope, lookup),
        gateway=Gateway(
            deps,
            lookup,
            RedisNonceStore(redis_client, clock) if redis_client else store.nonces,
            clock,
            instance_id=settings.instance_id or _instance_id(root),
            window=settings.signed_fetch_window,
        ),
        home_servers=EgressHomeServers(egress),
        **_device_services(
            deps,
            store,
            sessions,
            Authenticator(deps, throttle),
            envelope,
            connections,
            solutions,
            oauth_clients,
        ),
        federation=_federation(settings, deps, store, sessions, envelope, egress),
        oauth_clients=oauth_clients,
        consents=consents,
        provider=build_provider(
            deps,
            clients=oauth_clients,
            consents=consents,
            codes=store.oauth_codes,
            pushed=store.pushed_requests,
            browser_sessions=store.browser_sessions,
            session_users=store.session_users,
            sessions=sessions,
            access=access,
            keyring=keyring,
            authenticator=Authenticator(deps, throttle),
            password_policy=SsoPasswordPolicy(store.federation),
            sealer=Sealer(derive_key(root, "authgate provider requests v1")),
            clock=clock,
            issuer=settings.issuer,
            browser_session_ttl=settings.provider_session_ttl,
            id_token_ttl=settings.access_token_ttl,
        ),
    )
    return Runtime(services, store, keys, hasher, egress, redis_client, sql=sql)


def _federation(
    settings: Settings,
    deps: IdentityDeps,
    store: SqlStore,
    sessions: SessionService,
    envelope: Envelope,
    egress: EgressClient,
) -> Federation:
    """SSO: organizations' IdPs, reached through the egress client."""
    client = EgressIdpClient(egress)
    return Federation.build(
        LoginDeps(
            identity=deps,
            repository=store.federation,
            directory=IdpDirectory(store.federation, client, envelope, deps.clock),
            client=client,
            provisioner=Provisioner(
                deps, store.federation, JoinRequestService(deps), _SolutionGrants(store, deps.clock)
            ),
            sessions=sessions,
            families=store.refresh_tokens,
            redirects=AppRedirects(
                {
                    DEVICE_CLIENT_ID: settings.sso_redirect_uris,
                    # authgate's own pages: the OpenID provider's sign-in and the device page.
                    PROVIDER_SSO_CLIENT: (settings.issuer + SSO_RETURN_PATH,),
                    DEVICE_PAGE_SSO_CLIENT: (settings.issuer + DEVICE_SSO_RETURN_PATH,),
                }
            ),
            callback_url=settings.issuer + SSO_CALLBACK_PATH,
            issuer=settings.issuer,
        )
    )


class _SolutionGrants:
    """Gives people provisioned by SSO the organization's configured solutions."""

    def __init__(self, store: SqlStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def grant_user(self, org_id: str, solution: str, user_id: str) -> bool:
        record = await self._store.solutions.get(org_id, solution)
        if record is None:
            return False
        await self._store.solutions.set_member(
            SolutionMember(record.id, user_id, SolutionRole.USER, self._clock())
        )
        return True


def _device_services(
    deps: IdentityDeps,
    store: SqlStore,
    sessions: SessionService,
    authenticator: Authenticator,
    envelope: Envelope,
    connections: ConnectionService,
    solutions: SolutionService,
    clients: ClientRegistry,
) -> dict[str, Any]:
    """Device sign-in (RFC 8628) for the device client, and its local functions' credentials."""
    return {
        "device_authorizations": DeviceAuthorizations(
            deps,
            store.device_codes,
            sessions,
            authenticator,
            verification_uri=f"{deps.public_url}/device",
            clients=DeviceGrantClients(clients, own_client_id=DEVICE_CLIENT_ID),
        ),
        "device_credentials": DeviceCredentials(
            solutions, DeviceCredentialIssuer(deps, store.vault, envelope, connections)
        ),
    }


def call_limits(settings: Settings) -> CallLimits:
    """The bounds of one function call, from the settings."""
    return CallLimits(
        max_pages=settings.function_max_pages,
        max_bytes=settings.function_max_response_bytes,
        seconds=settings.function_timeout,
        request_max_bytes=settings.function_max_response_bytes,
        request_seconds=settings.function_timeout,
    )


class _VaultDirectory:
    """The vault's credential names, as publishing needs them."""

    def __init__(self, repository: SqlVaultRepository) -> None:
        self._repository = repository

    async def names(self, org_id: str, solution: str | None) -> frozenset[str]:
        return frozenset(
            credential.name
            for credential in await self._repository.list_for_org(org_id)
            if credential.solution in (None, solution)
        )


class _VaultResolvers:
    """Binds the vault's resolver to one function call."""

    def __init__(self, vault: VaultService[ResolvedCredential]) -> None:
        self._vault = vault

    def for_call(
        self, *, org_id: str, solution: str, function: str, actor: Actor
    ) -> CredentialResolver:
        return self._vault.resolver(org_id, solution, function, actor)


class _VaultSqlConnections:
    """Binds the vault's resolver to one SQL function call (connection credentials)."""

    def __init__(self, vault: VaultService[ResolvedCredential]) -> None:
        self._vault = vault

    def for_call(
        self, *, org_id: str, solution: str, function: str, actor: Actor
    ) -> SqlConnectionResolver:
        return self._vault.resolver(org_id, solution, function, actor)


def _instance_id(root: bytes) -> str:
    # Stable across restarts and the same on every node: all of them share the root key.
    return derive_key(root, "authgate instance id v1").hex()[:32]


def _for_functions(credential: UsableCredential) -> ResolvedCredential:
    # The vault sits below the function engine, so it cannot build the engine's type.
    return ResolvedCredential(
        name=credential.name,
        kind=CredentialKind(credential.send_as),
        value=credential.value,
        allowed_hosts=credential.allowed_hosts,
    )


def create_app(settings: Settings, *, clock: Clock = utc_now) -> tuple[FastAPI, ASGIApp]:
    """The FastAPI application (for tests and OpenAPI) and the ASGI stack to serve."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await build_runtime(settings, clock=clock)
        runtime.tasks.extend(
            start_background(runtime.keys, runtime.store, clock, prune_nonces=runtime.redis is None)
        )
        app.state.services = runtime.services
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    fastapi_app = build_fastapi(lifespan)
    return fastapi_app, build_asgi(fastapi_app)

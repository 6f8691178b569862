"""Credentials handed to a member's device for the functions it runs itself (``useLocalCall``).

Only what an administrator marked ``deviceUsable`` leaves the server: a secret, API key or
bearer token as its value, and for an ``oauth_client`` the signed-in user's own current
access token with the client's public configuration (never the client secret, never the
user's refresh token). SQL connections and basic credentials never leave: the engine refuses
basic authentication wherever it runs, and SQL functions run only in the cloud. Every
credential handed out is audited as ``credential.sent_to_device``; everything withheld is
named with the reason, never a value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from authgate.crypto.envelope import Envelope
from authgate.identity.deps import Actor, IdentityDeps
from authgate.vault.connections import ConnectionService
from authgate.vault.errors import ConsentRequired
from authgate.vault.models import Credential, CredentialKind, OAuthClientConfig
from authgate.vault.ports import CredentialRepository
from authgate.vault.resolver import SENT_AS
from authgate.vault.sealing import credential_context, fields_from

_NEVER_ON_DEVICES = {
    CredentialKind.SQL_CONNECTION: "an sql_connection is never sent to a device",
    CredentialKind.BASIC: "basic credentials are never sent; use a token, an API key or OAuth",
}


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    """One credential as a device keeps it. ``oauth`` is the public client configuration."""

    name: str
    send_as: str
    value: str = field(repr=False)
    allowed_hosts: tuple[str, ...]
    version: int
    expires_at: datetime | None = None
    oauth: OAuthClientConfig | None = None


@dataclass(frozen=True, slots=True)
class Withheld:
    """A credential the device needs but does not get, and why (a stable reason code)."""

    name: str
    reason: str
    message: str
    details: Mapping[str, str] = field(default_factory=dict)


class DeviceCredentialIssuer:
    """Opens the device-usable credentials a device asks for, auditing each."""

    def __init__(
        self,
        deps: IdentityDeps,
        repository: CredentialRepository,
        envelope: Envelope,
        connections: ConnectionService | None,
    ) -> None:
        self._deps = deps
        self._repository = repository
        self._envelope = envelope
        self._connections = connections

    async def issue(
        self,
        org_id: str,
        solution: str,
        names: Iterable[str],
        actor: Actor,
        *,
        rejected: Mapping[str, str] | None = None,
    ) -> tuple[list[DeviceCredential], list[Withheld]]:
        """The credentials among ``names`` this device may hold, and those withheld.

        ``rejected`` maps an OAuth credential's name to the access token an upstream just
        refused on the device: that connection is refreshed first.
        """
        given: list[DeviceCredential] = []
        withheld: list[Withheld] = []
        for name in sorted(set(names)):
            found = await self._repository.find_current(org_id, name, solution)
            if found is None:
                withheld.append(Withheld(name, "not_found", "no such credential is stored"))
                continue
            credential, version = found
            refusal = _NEVER_ON_DEVICES.get(credential.kind)
            if refusal is None and not credential.device_usable:
                refusal = "an administrator has not marked this credential usable on devices"
            if refusal is not None:
                withheld.append(Withheld(name, "not_device_usable", refusal))
                continue
            if credential.kind is CredentialKind.OAUTH_CLIENT:
                item = await self._oauth(credential, actor, (rejected or {}).get(name))
                if isinstance(item, Withheld):
                    withheld.append(item)
                    continue
            else:
                context = credential_context(credential.org_id, credential.id, version.version)
                value = fields_from(self._envelope.open(version.sealed, context))["value"]
                item = DeviceCredential(
                    name=credential.name,
                    send_as=SENT_AS[credential.kind],
                    value=value,
                    allowed_hosts=credential.allowed_hosts,
                    version=credential.version,
                )
            given.append(item)
            await self._deps.audit(
                "credential.sent_to_device",
                actor,
                org_id=credential.org_id,
                subject=credential.name,
                credential_id=credential.id,
                version=str(credential.version),
                solution=solution,
            )
        return given, withheld

    async def _oauth(
        self, credential: Credential, actor: Actor, rejected: str | None
    ) -> DeviceCredential | Withheld:
        user_id = actor.user_id
        if self._connections is None or user_id is None:
            error = ConsentRequired(credential.name, credential.solution)
            return Withheld(credential.name, error.code, error.message, error.details)
        try:
            token = await self._connections.access_token(credential, user_id, rejected=rejected)
        except ConsentRequired as error:
            return Withheld(credential.name, error.code, error.message, error.details)
        connection = await self._connections_of(credential, user_id)
        config = credential.oauth
        return DeviceCredential(
            name=credential.name,
            send_as=SENT_AS[credential.kind],
            value=token,
            allowed_hosts=credential.allowed_hosts,
            version=connection[0],
            expires_at=connection[1],
            oauth=config,
        )

    async def _connections_of(
        self, credential: Credential, user_id: str
    ) -> tuple[int, datetime | None]:
        assert self._connections is not None
        for known, connection in await self._connections.list_for_user(credential.org_id, user_id):
            if known.id == credential.id:
                return connection.token_version, connection.access_expires_at
        return 0, None

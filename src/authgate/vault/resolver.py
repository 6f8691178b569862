"""Credentials for one function call: looked up, decrypted in memory, audited per use.

A resolver is bound to one call (organization, solution, function, user). ``resolve``
prefers a credential scoped to the call's solution over an organization-wide one of the
same name, reads it and its current version in one statement, opens it, and records a
``credential.used`` audit event naming the function and the credential (never the value).

The vault sits below the function engine in the layers, so it cannot name the engine's
``ResolvedCredential``; the wiring passes a ``build`` function that turns a
:class:`UsableCredential` into it, which makes ``CallResolver[ResolvedCredential]`` an
:class:`authgate.functions.ports.CredentialResolver`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from authgate.crypto.envelope import Envelope, EnvelopeError
from authgate.errors import NotFound
from authgate.identity.deps import Actor, IdentityDeps
from authgate.vault.connections import ConnectionService
from authgate.vault.errors import ConsentRequired, CredentialNotUsable, NotRefreshable
from authgate.vault.models import (
    Credential,
    CredentialKind,
    SecretFields,
    SecretVersion,
    UsableCredential,
    UsableSqlConnection,
)
from authgate.vault.ports import CredentialRepository
from authgate.vault.sealing import credential_context, fields_from

T = TypeVar("T")

SENT_AS = {
    CredentialKind.SECRET: "secret",
    CredentialKind.API_KEY: "api_key",
    CredentialKind.BEARER_TOKEN: "bearer",
    CredentialKind.BASIC: "basic",
    CredentialKind.OAUTH_CLIENT: "oauth",
}
"""How each kind sent over HTTP is sent (values of the engine's ``CredentialKind``)."""


class CallResolver(Generic[T]):
    """Credentials for one call, each built into a ``T`` by ``build``."""

    __slots__ = (
        "_actor",
        "_build",
        "_connections",
        "_deps",
        "_envelope",
        "_function",
        "_issued",
        "_org_id",
        "_repo",
        "_solution",
    )

    def __init__(
        self,
        deps: IdentityDeps,
        repository: CredentialRepository,
        envelope: Envelope,
        org_id: str,
        solution: str | None,
        function: str,
        actor: Actor,
        build: Callable[[UsableCredential], T],
        connections: ConnectionService | None = None,
    ) -> None:
        self._build = build
        self._connections = connections
        # The OAuth access tokens handed out in this call, to know which one a 401 refused.
        self._issued: dict[str, str] = {}
        self._deps = deps
        self._repo = repository
        self._envelope = envelope
        self._org_id = org_id
        self._solution = solution
        self._function = function
        self._actor = actor

    async def resolve(self, name: str) -> T:
        """The credential's current value, ready to send to its allowed hosts."""
        credential, version = await self._find(name)
        if credential.kind is CredentialKind.OAUTH_CLIENT:
            return await self._oauth(credential, rejected=None)
        if credential.kind is CredentialKind.SQL_CONNECTION:
            raise CredentialNotUsable(
                f"credential '{name}' is an sql_connection: only an SQL function's "
                "`connection` may use it, never an HTTP parameter"
            )
        fields = await self._open(credential, version)
        if credential.kind is CredentialKind.BASIC:
            value = f"{fields['username']}:{fields['password']}"
        else:
            value = fields["value"]
        return self._build(
            UsableCredential(
                name=credential.name,
                send_as=SENT_AS[credential.kind],
                value=value,
                allowed_hosts=frozenset(credential.allowed_hosts),
            )
        )

    async def resolve_sql_connection(self, name: str) -> str:
        """The connection URL of an ``sql_connection`` credential (SQL functions only)."""
        return (await self.sql_connection(name)).url

    async def sql_connection(self, name: str) -> UsableSqlConnection:
        """An ``sql_connection`` credential's URL with the version it belongs to."""
        credential, version = await self._find(name)
        if credential.kind is not CredentialKind.SQL_CONNECTION:
            raise CredentialNotUsable(
                f"credential '{name}' is a {credential.kind.value}, not an sql_connection"
            )
        url = (await self._open(credential, version))["value"]
        return UsableSqlConnection(credential.id, version.version, url)

    async def refresh(self, name: str, rejected: T) -> T:
        """A fresh OAuth access token after an upstream refused the one this call got."""
        credential, _ = await self._find(name)
        if credential.kind is not CredentialKind.OAUTH_CLIENT:
            raise NotRefreshable(
                f"credential '{name}' is not an OAuth connection and cannot be refreshed; "
                "check its value and allowed hosts, or replace it"
            )
        return await self._oauth(credential, rejected=self._issued.get(credential.name, ""))

    async def _oauth(self, credential: Credential, *, rejected: str | None) -> T:
        # Per-user connections hold the access tokens; without one, the user consents.
        user_id = self._actor.user_id
        if self._connections is None or user_id is None:
            raise ConsentRequired(credential.name, credential.solution)
        token = await self._connections.access_token(credential, user_id, rejected=rejected)
        await self._audit(credential, "success")
        self._issued[credential.name] = token
        return self._build(
            UsableCredential(
                name=credential.name,
                send_as=SENT_AS[credential.kind],
                value=token,
                allowed_hosts=frozenset(credential.allowed_hosts),
            )
        )

    async def _find(self, name: str) -> tuple[Credential, SecretVersion]:
        found = await self._repo.find_current(self._org_id, name, self._solution)
        if found is None:
            raise NotFound(
                f"credential '{name[:128]}' is not stored for this organization or solution; "
                "an administrator can add it with PUT /v1/orgs/{org}/credentials/{name}"
            )
        return found

    async def _open(self, credential: Credential, version: SecretVersion) -> SecretFields:
        context = credential_context(credential.org_id, credential.id, version.version)
        try:
            fields = fields_from(self._envelope.open(version.sealed, context))
        except EnvelopeError:
            await self._audit(credential, "failure")
            raise
        await self._audit(credential, "success")
        return fields

    async def _audit(self, credential: Credential, outcome: str) -> None:
        await self._deps.audit(
            "credential.used",
            self._actor,
            org_id=credential.org_id,
            subject=credential.name,
            outcome=outcome,
            function=self._function,
            credential_id=credential.id,
            version=str(credential.version),
            solution=self._solution or "",
        )

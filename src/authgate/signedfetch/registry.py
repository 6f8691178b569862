"""The apps gateway's registry: containers that may send signed fetches, and apps.

A **container** is an instance trusted to sign requests on behalf of its users (a Jive-like
server, or any system holding a consumer key): it signs with an HMAC secret or an RSA key
pair, and the gateway verifies with the secret or the public key registered here. Its
``instance_id`` is what the gateway appends to the user ids the container asserts.

An **app** is a third-party app and its home servers: the gateway forwards a verified
request only to one of the app's registered base URLs, re-signed with the app's own
consumer key and secret.

Secrets (a container's HMAC secret, an app's consumer secret) are sealed with the vault's
envelope and bound to their row; they are write-only: no model here carries one, except
:class:`ContainerKey` and :class:`AppKey`, which live in memory while requests are served.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from authgate.crypto.envelope import SealedSecret
from authgate.signedfetch.signature import ConsumerCredential, SignatureMethod


class ContainerKeyType(enum.StrEnum):
    """How a container signs: with a shared HMAC secret or an RSA private key."""

    HMAC = "hmac"
    RSA = "rsa"


@dataclass(frozen=True, slots=True)
class Container:
    """A registered container, without its secret."""

    id: str
    org_id: str
    name: str
    consumer_key: str
    instance_id: str
    key_type: ContainerKeyType
    public_key_pem: str | None
    description: str
    secret_version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class App:
    """A registered app, without its consumer secret."""

    id: str
    org_id: str
    app_id: str
    app_url: str
    home_servers: tuple[str, ...]
    consumer_key: str
    signature_method: SignatureMethod
    description: str
    secret_version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredContainer:
    """A container row as stored: the sealed HMAC secret is ``None`` for an RSA container."""

    container: Container
    sealed: SealedSecret | None


@dataclass(frozen=True, slots=True)
class StoredApp:
    """An app row as stored, with its sealed consumer secret."""

    app: App
    sealed: SealedSecret


@dataclass(frozen=True, slots=True)
class ContainerKey:
    """A container and what verifies its signatures, in memory only."""

    container: Container
    credential: ConsumerCredential = field(repr=False)


@dataclass(frozen=True, slots=True)
class AppKey:
    """An app and its consumer secret, in memory only. Never logged, never returned."""

    app: App
    consumer_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    """What an administrator submits to register or replace a container.

    Exactly one of ``secret`` (HMAC) and ``public_key_pem`` (RSA) is given.
    ``instance_id`` defaults to a new random identifier.
    """

    consumer_key: str
    secret: str | None = field(default=None, repr=False)
    public_key_pem: str | None = None
    instance_id: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class AppSpec:
    """What an administrator submits to register or replace an app.

    ``consumer_secret`` may be omitted when replacing an app: the stored one is kept.
    """

    app_url: str
    home_servers: tuple[str, ...]
    consumer_key: str
    consumer_secret: str | None = field(default=None, repr=False)
    signature_method: SignatureMethod = SignatureMethod.HMAC_SHA1
    description: str = ""


def container_context(org_id: str, container_id: str, version: int) -> tuple[str, ...]:
    """What a container's sealed secret is bound to (see :func:`authgate.crypto.envelope.bind`)."""
    return ("signed-fetch container", org_id, container_id, str(version))


def app_context(org_id: str, app_row_id: str, version: int) -> tuple[str, ...]:
    """What an app's sealed consumer secret is bound to."""
    return ("signed-fetch app", org_id, app_row_id, str(version))

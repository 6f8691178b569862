"""How a credential's value fields are sealed: the envelope and the row context it binds."""

from __future__ import annotations

import json

from authgate.crypto.envelope import Envelope, SealedSecret, bind
from authgate.vault.models import SecretFields


def credential_context(org_id: str, credential_id: str, version: int) -> bytes:
    """Associated data of one secret version: moved to any other row, it fails to open."""
    return bind("credential", org_id, credential_id, version)


def seal_fields(
    envelope: Envelope, fields: SecretFields, org_id: str, credential_id: str, version: int
) -> SealedSecret:
    """The value fields sealed under a fresh data key."""
    plaintext = json.dumps(fields.fields, separators=(",", ":"), sort_keys=True).encode()
    return envelope.seal(plaintext, credential_context(org_id, credential_id, version))


def fields_from(plaintext: bytes) -> SecretFields:
    """The value fields of an opened secret."""
    decoded = json.loads(plaintext)
    return SecretFields({str(key): str(value) for key, value in decoded.items()})


def connection_context(org_id: str, credential_id: str, user_id: str, token_version: int) -> bytes:
    """Associated data of a user's token set: bound to its user and token version too."""
    return bind("connection", org_id, credential_id, user_id, token_version)

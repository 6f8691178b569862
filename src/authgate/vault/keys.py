"""The vault's key-encryption keys, from the settings.

``vault_kek`` is the current KEK (32 bytes, base64). Without it, the KEK is derived from
the deployment's root key with HKDF (purpose ``authgate vault kek v1``); the root key lives
in ``secret_key`` or the data directory's key file, never in the database. When an explicit
KEK is set, the root-derived one stays accepted for unwrapping, so a deployment can move
from the default to its own KEK and then run ``authgate keys rotate-kek``.
``vault_previous_keks`` are older KEKs, accepted for unwrapping until rotation finished.
"""

from __future__ import annotations

from authgate.config import Settings
from authgate.crypto.envelope import Envelope, KeyEncryptionKey, decode_kek
from authgate.crypto.root_key import derive_key

DERIVED_KEK_PURPOSE = "authgate vault kek v1"


def envelope_from_settings(settings: Settings, root_key: bytes) -> Envelope:
    """The envelope with the current KEK and every KEK still accepted for unwrapping."""
    derived = KeyEncryptionKey(derive_key(root_key, DERIVED_KEK_PURPOSE))
    previous = [
        decode_kek(kek.get_secret_value(), "AUTHGATE_VAULT_PREVIOUS_KEKS")
        for kek in settings.vault_previous_keks
    ]
    if settings.vault_kek is None:
        return Envelope(derived, previous)
    current = decode_kek(settings.vault_kek.get_secret_value(), "AUTHGATE_VAULT_KEK")
    return Envelope(current, [derived, *previous])

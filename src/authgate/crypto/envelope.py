"""Envelope encryption of stored secrets (NIST SP 800-38D AES-GCM, SECURITY.md "Vault").

Each secret *version* gets a fresh random 256-bit data key. The value is sealed with
AES-256-GCM under that data key; the data key is wrapped, also with AES-256-GCM, under a
key-encryption key (KEK) that never enters the database. Both seals take the same
associated data (the caller binds organization, credential and version into it with
:func:`bind`), so a ciphertext or a wrapped key moved to another row fails to open.

Why AES-GCM rather than RFC 3394 key wrap for the data key: RFC 3394 has no associated
data, so a wrapped key copied to another row would still unwrap there; GCM binds the
wrapped key to its row too, and one well-reviewed primitive serves both layers. A random
96-bit nonce per wrap is safe far beyond the number of versions a deployment stores.

Each wrapped key records the id of the KEK that wrapped it: an HMAC-SHA256 fingerprint
keyed by the KEK itself, which identifies the KEK without revealing anything about it.
Rotation re-wraps data keys under the current KEK; older KEKs keep unwrapping meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authgate.config import key_bytes
from authgate.errors import AuthgateError

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
_FORMAT = b"\x01"
_VALUE_LABEL = b"authgate vault value v1\x00"
_WRAP_LABEL = b"authgate vault data key v1\x00"
_KEK_ID_LABEL = b"authgate vault kek id v1"


class EnvelopeError(AuthgateError):
    """A sealed secret did not open: tampered, moved to another row, or the wrong KEK."""

    code = "vault_integrity_error"
    status = 500


class UnknownKek(EnvelopeError):
    """A wrapped data key names a KEK this process was not given."""

    code = "vault_unknown_kek"


def bind(*parts: str | int) -> bytes:
    """Unambiguous associated data from ``parts`` (each length-prefixed, so no two
    different sequences of parts encode to the same bytes)."""
    encoded = bytearray()
    for part in parts:
        raw = str(part).encode("utf-8")
        encoded += len(raw).to_bytes(4, "big") + raw
    return bytes(encoded)


def kek_fingerprint(key: bytes) -> str:
    """The id recorded next to every data key ``key`` wraps (never the key itself)."""
    mac = hmac.digest(key, _KEK_ID_LABEL, hashlib.sha256)[:12]
    return "kek-" + base64.urlsafe_b64encode(mac).decode("ascii")


@dataclass(frozen=True, slots=True)
class KeyEncryptionKey:
    """A 256-bit KEK and its id."""

    key: bytes = field(repr=False)
    kek_id: str = ""

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES:
            raise ValueError("a key-encryption key must be 32 bytes")
        if not self.kek_id:
            object.__setattr__(self, "kek_id", kek_fingerprint(self.key))


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """What is stored for one secret version: both seals and the wrapping KEK's id."""

    ciphertext: bytes = field(repr=False)
    wrapped_key: bytes = field(repr=False)
    kek_id: str


def _seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return _FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, associated_data)


def _open(key: bytes, sealed: bytes, associated_data: bytes, what: str) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + TAG_BYTES or sealed[:1] != _FORMAT:
        raise EnvelopeError(f"the stored {what} is malformed; restore the row from a backup")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, associated_data)
    except InvalidTag:
        raise EnvelopeError(
            f"the stored {what} does not open under its key and context: it was altered or "
            "moved from another credential or version; replace the credential's value"
        ) from None


class Envelope:
    """Seals and opens secrets under the current KEK; older KEKs still unwrap."""

    __slots__ = ("_by_id", "current")

    def __init__(
        self, current: KeyEncryptionKey, previous: Iterable[KeyEncryptionKey] = ()
    ) -> None:
        self.current = current
        self._by_id = {kek.kek_id: kek for kek in previous}
        self._by_id[current.kek_id] = current

    @property
    def kek_ids(self) -> frozenset[str]:
        """Ids of every KEK this envelope can unwrap with."""
        return frozenset(self._by_id)

    def knows(self, kek_id: str) -> bool:
        """Whether a data key wrapped by ``kek_id`` can be unwrapped here."""
        return kek_id in self._by_id

    def seal(self, plaintext: bytes, associated_data: bytes) -> SealedSecret:
        """A fresh data key seals ``plaintext``; the current KEK wraps the data key."""
        data_key = AESGCM.generate_key(bit_length=256)
        ciphertext = _seal(data_key, plaintext, _VALUE_LABEL + associated_data)
        wrapped = _seal(self.current.key, data_key, _WRAP_LABEL + associated_data)
        return SealedSecret(ciphertext, wrapped, self.current.kek_id)

    def unwrap(self, sealed: SealedSecret, associated_data: bytes) -> bytes:
        """The data key of ``sealed`` (:class:`UnknownKek` if its KEK is not configured)."""
        kek = self._by_id.get(sealed.kek_id)
        if kek is None:
            raise UnknownKek(
                f"a stored secret was wrapped by {sealed.kek_id}, which is not configured; "
                "add that key to AUTHGATE_VAULT_PREVIOUS_KEKS (or restore AUTHGATE_VAULT_KEK)"
            )
        return _open(kek.key, sealed.wrapped_key, _WRAP_LABEL + associated_data, "data key")

    def open_with(self, data_key: bytes, sealed: SealedSecret, associated_data: bytes) -> bytes:
        """The plaintext of ``sealed`` given its already unwrapped data key."""
        return _open(data_key, sealed.ciphertext, _VALUE_LABEL + associated_data, "secret")

    def open(self, sealed: SealedSecret, associated_data: bytes) -> bytes:
        """The plaintext of ``sealed``, or :class:`EnvelopeError`."""
        return self.open_with(self.unwrap(sealed, associated_data), sealed, associated_data)

    def rewrap(self, sealed: SealedSecret, associated_data: bytes) -> SealedSecret:
        """``sealed`` with its data key wrapped by the current KEK (ciphertext unchanged)."""
        data_key = self.unwrap(sealed, associated_data)
        wrapped = _seal(self.current.key, data_key, _WRAP_LABEL + associated_data)
        return SealedSecret(sealed.ciphertext, wrapped, self.current.kek_id)


def decode_kek(text: str, source: str) -> KeyEncryptionKey:
    """A KEK from its base64 (or base64url) text, exactly 32 bytes."""
    raw = key_bytes(text)
    if len(raw) != KEY_BYTES:
        raise ValueError(
            f"{source} must be 32 random bytes in base64, e.g. the output of "
            "`python -c 'import secrets,base64; print(base64.b64encode(secrets.token_bytes(32))"
            ".decode())'`"
        )
    return KeyEncryptionKey(raw)

"""Where the device keeps its secrets: the OS keychain through ``keyring``, or else an
encrypted file.

Tokens and the credentials of local functions are secrets. With an OS keychain (macOS
Keychain, Windows Credential Locker, the Secret Service on Linux desktops) they live there.
On a machine without one (a server, a container, CI) ``keyring`` has no usable backend; the
device then keeps them in a file encrypted with AES-256-GCM under a random key stored in a
separate file, both readable only by the user, and says so once, on one line. The file
store protects against the data file being copied alone (a backup, a synced folder); a
reader of the whole home directory reads both, which is why an OS keychain is preferred.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors
import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authgate.client.errors import SecretStoreError

SERVICE = "authgate"
FILE_NAME = "secrets.bin"
KEY_NAME = "secrets.key"
_AAD = b"authgate device secrets v1"


class SecretStore(Protocol):
    """A small key-value store for secrets (strings)."""

    def get(self, key: str) -> str | None:
        """The value, or ``None``."""
        ...

    def set(self, key: str, value: str) -> None:
        """Store (replace) a value."""
        ...

    def delete(self, key: str) -> None:
        """Forget a value (nothing happens if there is none)."""
        ...


class KeyringStore:
    """Secrets in the OS keychain, under the service name ``authgate``, one entry per key."""

    def __init__(self, namespace: str, backend: keyring.backend.KeyringBackend) -> None:
        self._namespace = namespace
        self._backend = backend

    def get(self, key: str) -> str | None:
        """The value, or ``None``."""
        try:
            return self._backend.get_password(SERVICE, self._name(key))
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the keychain could not be read ({type(exc).__name__})"
            ) from None

    def set(self, key: str, value: str) -> None:
        """Store (replace) a value."""
        try:
            self._backend.set_password(SERVICE, self._name(key), value)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"the keychain could not be written ({type(exc).__name__})"
            ) from None

    def delete(self, key: str) -> None:
        """Forget a value."""
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self._backend.delete_password(SERVICE, self._name(key))

    def _name(self, key: str) -> str:
        return f"{self._namespace}/{key}"


class EncryptedFileStore:
    """Secrets in one AES-256-GCM encrypted file; the key in another file (mode 0600)."""

    def __init__(self, folder: Path, namespace: str) -> None:
        self._folder = folder
        self._namespace = namespace
        self._lock = threading.Lock()
        self.path = folder / FILE_NAME
        self.key_path = folder / KEY_NAME

    def get(self, key: str) -> str | None:
        """The value, or ``None``."""
        with self._lock:
            return self._read().get(self._name(key))

    def set(self, key: str, value: str) -> None:
        """Store (replace) a value."""
        with self._lock:
            entries = self._read()
            entries[self._name(key)] = value
            self._write(entries)

    def delete(self, key: str) -> None:
        """Forget a value."""
        with self._lock:
            entries = self._read()
            if entries.pop(self._name(key), None) is not None:
                self._write(entries)

    def _name(self, key: str) -> str:
        return f"{self._namespace}/{key}"

    def _key(self, *, create: bool) -> bytes | None:
        try:
            key = self.key_path.read_bytes()
        except FileNotFoundError:
            if not create:
                return None
            key = AESGCM.generate_key(bit_length=256)
            _write_private(self.key_path, key)
            return key
        if len(key) != 32:
            raise SecretStoreError(f"{self.key_path} is not a key authgate wrote; remove it")
        return key

    def _read(self) -> dict[str, str]:
        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        key = self._key(create=False)
        if key is None or len(sealed) < 13:
            raise SecretStoreError(
                f"{self.path} cannot be opened (its key {self.key_path} is missing); "
                "sign in again after removing it"
            )
        try:
            plain = AESGCM(key).decrypt(sealed[:12], sealed[12:], _AAD)
        except InvalidTag:
            raise SecretStoreError(
                f"{self.path} does not open with its key; sign in again after removing it"
            ) from None
        entries = orjson.loads(plain)
        return {str(k): str(v) for k, v in entries.items()}

    def _write(self, entries: dict[str, str]) -> None:
        key = self._key(create=True)
        assert key is not None
        nonce = secrets.token_bytes(12)
        sealed = nonce + AESGCM(key).encrypt(nonce, orjson.dumps(entries), _AAD)
        _write_private(self.path, sealed)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable and writable by the user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def keychain_backend() -> keyring.backend.KeyringBackend | None:
    """The OS keychain ``keyring`` found, or ``None`` when there is none usable."""
    backend = keyring.get_keyring()
    # keyring answers with a priority-0 "fail" or "null" backend when it found nothing.
    if backend.priority <= 0 or type(backend).__module__.startswith(
        ("keyring.backends.fail", "keyring.backends.null")
    ):
        return None
    return backend


def open_secret_store(
    folder: Path, namespace: str, *, notice: Callable[[str], None] | None = None
) -> SecretStore:
    """The OS keychain when there is one, else the encrypted file store in ``folder``
    (``notice`` is told so, in one line)."""
    backend = keychain_backend()
    if backend is not None:
        return KeyringStore(namespace, backend)
    store = EncryptedFileStore(folder, namespace)
    if notice is not None:
        notice(
            f"authgate: no OS keychain found; tokens and credentials are kept encrypted in "
            f"{store.path} (key in {store.key_path}, readable only by you)"
        )
    return store

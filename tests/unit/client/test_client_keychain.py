"""Secrets on the device: the OS keychain through keyring, or the encrypted file store."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from authgate.client.errors import SecretStoreError
from authgate.client.keychain import (
    EncryptedFileStore,
    KeyringStore,
    keychain_backend,
    open_secret_store,
)

SECRET = "canary-keychain-secret-4e1f"


def memory_keychain_class() -> type[keyring.backend.KeyringBackend]:
    # Defined only once keyring chose its backend: keyring registers every subclass, and
    # one defined at import time could be picked by another test's discovery.
    class MemoryKeychain(keyring.backend.KeyringBackend):
        """A keychain that keeps entries in memory (this machine has no OS keychain)."""

        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.entries: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if (service, username) not in self.entries:
                raise keyring.errors.PasswordDeleteError(username)
            del self.entries[(service, username)]

    return MemoryKeychain


@pytest.fixture
def memory_keychain() -> Iterator[keyring.backend.KeyringBackend]:
    before = keyring.get_keyring()
    backend = memory_keychain_class()()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


def test_the_file_store_encrypts_and_keeps_files_private(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, "https://a.example")
    assert store.get("session") is None
    store.set("session", SECRET)
    store.set("other", "x")
    assert store.get("session") == SECRET
    assert SECRET.encode() not in store.path.read_bytes()
    for path in (store.path, store.key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Another server's namespace does not see it; deleting is idempotent.
    assert EncryptedFileStore(tmp_path, "https://b.example").get("session") is None
    store.delete("session")
    store.delete("session")
    assert store.get("session") is None
    assert store.get("other") == "x"


def test_the_file_store_refuses_a_tampered_file_or_a_lost_key(tmp_path: Path) -> None:
    store = EncryptedFileStore(tmp_path, "ns")
    store.set("k", SECRET)
    sealed = bytearray(store.path.read_bytes())
    sealed[-1] ^= 1
    store.path.write_bytes(bytes(sealed))
    with pytest.raises(SecretStoreError) as tampered:
        store.get("k")
    assert SECRET not in tampered.value.message
    store.key_path.unlink()
    with pytest.raises(SecretStoreError) as lost:
        store.get("k")
    assert "missing" in lost.value.message


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """A machine without an OS keychain: keyring's own "fail" backend."""
    before = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


@pytest.mark.usefixtures("no_keychain")
def test_without_a_keychain_the_file_store_is_used_with_a_notice(tmp_path: Path) -> None:
    assert keychain_backend() is None
    notices: list[str] = []
    store = open_secret_store(tmp_path, "ns", notice=notices.append)
    assert isinstance(store, EncryptedFileStore)
    assert len(notices) == 1
    assert "no OS keychain found" in notices[0]
    assert "\n" not in notices[0]


def test_with_a_keychain_secrets_go_there(
    tmp_path: Path, memory_keychain: keyring.backend.KeyringBackend
) -> None:
    notices: list[str] = []
    store = open_secret_store(tmp_path, "https://a.example", notice=notices.append)
    assert isinstance(store, KeyringStore)
    assert notices == []
    store.set("session", SECRET)
    entries = memory_keychain.entries  # type: ignore[attr-defined]
    assert entries == {("authgate", "https://a.example/session"): SECRET}
    assert store.get("session") == SECRET
    store.delete("session")
    store.delete("session")
    assert store.get("session") is None
    assert not list(tmp_path.iterdir())

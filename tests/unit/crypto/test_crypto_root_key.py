"""The root key: accepted spellings, the generated key file, and purpose-bound derivation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from authgate.crypto.root_key import (
    ROOT_KEY_FILE,
    decode_root_key,
    derive_key,
    load_or_create_root_key,
)
from authgate.errors import ConfigurationError

RAW = bytes(range(48))


def test_decodes_unpadded_base64url() -> None:
    text = base64.urlsafe_b64encode(RAW).rstrip(b"=").decode()
    assert decode_root_key(text) == RAW


def test_decodes_padded_standard_base64() -> None:
    raw = bytes(range(200, 240))  # 40 bytes whose standard encoding uses '+' and '/'
    text = base64.b64encode(raw).decode()
    assert "=" in text or "+" in text or "/" in text
    assert decode_root_key(text) == raw


def test_surrounding_whitespace_is_ignored() -> None:
    text = base64.urlsafe_b64encode(RAW).decode()
    assert decode_root_key(f"  {text}\n") == RAW


def test_text_that_is_not_base64_of_32_bytes_is_used_as_utf8() -> None:
    passphrase = "correct horse battery staple, with spaces & punctuation!"
    assert decode_root_key(passphrase) == passphrase.encode("utf-8")
    unicode_key = "schlüssel-" * 4
    assert decode_root_key(unicode_key) == unicode_key.encode("utf-8")


def test_the_setting_wins_and_no_file_is_written(tmp_path: Path) -> None:
    text = base64.urlsafe_b64encode(RAW).decode()
    assert load_or_create_root_key(text, tmp_path, may_create=True) == RAW
    assert not (tmp_path / ROOT_KEY_FILE).exists()


def test_a_key_file_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    first = load_or_create_root_key(None, data_dir, may_create=True)
    path = data_dir / ROOT_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    content = path.read_bytes()

    second = load_or_create_root_key(None, data_dir, may_create=True)
    assert second == first
    assert path.read_bytes() == content
    # A node that may not create keys still reads the existing one.
    assert load_or_create_root_key(None, data_dir, may_create=False) == first


def test_two_deployments_get_different_keys(tmp_path: Path) -> None:
    one = load_or_create_root_key(None, tmp_path / "one", may_create=True)
    two = load_or_create_root_key(None, tmp_path / "two", may_create=True)
    assert one != two


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    text = base64.urlsafe_b64encode(RAW).decode()
    (tmp_path / ROOT_KEY_FILE).write_text(text + "\n", encoding="ascii")
    assert load_or_create_root_key(None, tmp_path, may_create=True) == RAW
    assert (tmp_path / ROOT_KEY_FILE).read_text(encoding="ascii") == text + "\n"


def test_without_a_setting_a_shared_deployment_must_not_invent_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_or_create_root_key(None, tmp_path, may_create=False)
    assert "AUTHGATE_SECRET_KEY" in caught.value.message
    assert "Fix" in caught.value.message
    assert not (tmp_path / ROOT_KEY_FILE).exists()
    assert os.listdir(tmp_path) == []


def test_derive_key_is_deterministic_and_has_the_requested_length() -> None:
    assert derive_key(RAW, "keyed-hash") == derive_key(RAW, "keyed-hash")
    assert len(derive_key(RAW, "keyed-hash")) == 32
    assert len(derive_key(RAW, "keyed-hash", 64)) == 64


def test_derived_keys_are_separated_by_purpose_and_by_root() -> None:
    purposes = ["keyed-hash", "signing-key-seal", "vault", "keyed-hash ", "Keyed-hash"]
    keys = {derive_key(RAW, purpose) for purpose in purposes}
    assert len(keys) == len(purposes)
    assert RAW[:32] not in keys
    assert derive_key(RAW, "keyed-hash") != derive_key(bytes(48), "keyed-hash")

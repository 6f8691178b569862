"""Hardening: short or empty root-key files, and argon2 hashes with odd characters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from authgate.crypto.passwords import Argon2Hasher
from authgate.crypto.root_key import ROOT_KEY_FILE, load_or_create_root_key
from authgate.errors import ConfigurationError


@pytest.mark.parametrize("content", ["", "\n", "short\n"])
def test_an_empty_or_short_key_file_is_never_used_as_the_root_key(
    tmp_path: Path, content: str
) -> None:
    # What a second process sees between the first one's O_EXCL create and its write, or
    # what a crash in that window leaves behind.
    (tmp_path / ROOT_KEY_FILE).write_text(content, encoding="ascii")
    for may_create in (True, False):
        with pytest.raises(ConfigurationError):
            load_or_create_root_key(None, tmp_path, may_create=may_create)


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    hasher = Argon2Hasher(memory_kib=19456, time_cost=2, max_workers=1)
    yield hasher
    hasher.close()


@pytest.mark.parametrize("malformed", ["$argon2id$é", "$argon2id$v=19$m=19456,t=2,p=1$sälz$häsh"])
async def test_a_non_ascii_malformed_hash_never_verifies(
    hasher: Argon2Hasher, malformed: str
) -> None:
    assert await hasher.verify(malformed, "password") is False
    assert hasher.needs_rehash(malformed) is True

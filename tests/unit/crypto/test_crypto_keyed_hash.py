"""Keyed hashes of generated secrets: deterministic, key-bound, compared in constant time."""

from __future__ import annotations

import hmac
import re

import pytest

from authgate.crypto.keyed_hash import KeyedHasher

KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


def test_a_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyedHasher(b"k" * 31)
    KeyedHasher(b"k" * 32)


def test_digest_is_deterministic_for_one_key() -> None:
    assert KeyedHasher(KEY_A).digest("refresh-token") == KeyedHasher(KEY_A).digest("refresh-token")


def test_digest_depends_on_the_key() -> None:
    assert KeyedHasher(KEY_A).digest("refresh-token") != KeyedHasher(KEY_B).digest("refresh-token")


def test_digest_depends_on_every_character_of_the_secret() -> None:
    hasher = KeyedHasher(KEY_A)
    digests = {hasher.digest(s) for s in ("secret", "secreT", "secret ", "secre", "sécret")}
    assert len(digests) == 5


def test_digest_is_unpadded_base64url_of_a_sha256_mac_and_hides_the_secret() -> None:
    digest = KeyedHasher(KEY_A).digest("canary-secret-value")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", digest)
    assert "canary" not in digest


def test_matches_accepts_the_right_secret_only() -> None:
    hasher = KeyedHasher(KEY_A)
    stored = hasher.digest("s3cret")
    assert hasher.matches("s3cret", stored) is True
    assert hasher.matches("s3creT", stored) is False
    assert hasher.matches("", stored) is False
    assert hasher.matches("s3cret", stored[:-1]) is False
    assert hasher.matches("s3cret", "") is False


def test_matches_does_not_accept_a_digest_made_under_another_key() -> None:
    assert KeyedHasher(KEY_A).matches("s3cret", KeyedHasher(KEY_B).digest("s3cret")) is False


def test_matches_compares_with_hmac_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    hasher = KeyedHasher(KEY_A)
    assert hasher.matches("x", hasher.digest("x"))
    assert len(calls) == 1

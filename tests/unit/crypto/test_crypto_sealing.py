"""AES-256-GCM sealing: round trip, and nothing opens in the wrong key or context."""

from __future__ import annotations

import os

import pytest

from authgate.crypto.sealing import Sealer, SealError

KEY = bytes(range(32))
AAD = b"authgate:signing-key:kid-1"
PLAINTEXT = b"private key material \x00\xff"


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(KEY)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_the_key_must_be_exactly_32_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Sealer(b"k" * length)


@pytest.mark.parametrize("plaintext", [b"", b"x", PLAINTEXT, os.urandom(4096)])
def test_round_trip(sealer: Sealer, plaintext: bytes) -> None:
    assert sealer.open(sealer.seal(plaintext, AAD), AAD) == plaintext


def test_sealed_value_does_not_contain_the_plaintext(sealer: Sealer) -> None:
    assert PLAINTEXT not in sealer.seal(PLAINTEXT, AAD)


def test_each_seal_uses_a_fresh_nonce(sealer: Sealer) -> None:
    first, second = sealer.seal(PLAINTEXT, AAD), sealer.seal(PLAINTEXT, AAD)
    assert first != second
    assert first[1:13] != second[1:13]


@pytest.mark.parametrize("aad", [b"", b"authgate:signing-key:kid-2", AAD + b"\x00", AAD.upper()])
def test_wrong_associated_data_does_not_open(sealer: Sealer, aad: bytes) -> None:
    with pytest.raises(SealError):
        sealer.open(sealer.seal(PLAINTEXT, AAD), aad)


def test_another_key_does_not_open(sealer: Sealer) -> None:
    with pytest.raises(SealError):
        Sealer(bytes(range(1, 33))).open(sealer.seal(PLAINTEXT, AAD), AAD)


def test_every_flipped_bit_is_detected(sealer: Sealer) -> None:
    sealed = sealer.seal(PLAINTEXT, AAD)
    for index in range(len(sealed)):
        for bit in (0x01, 0x80):
            tampered = bytearray(sealed)
            tampered[index] ^= bit
            with pytest.raises(SealError):
                sealer.open(bytes(tampered), AAD)


def test_truncated_values_are_refused(sealer: Sealer) -> None:
    sealed = sealer.seal(PLAINTEXT, AAD)
    for length in range(len(sealed)):
        with pytest.raises(SealError):
            sealer.open(sealed[:length], AAD)


def test_appended_bytes_are_refused(sealer: Sealer) -> None:
    with pytest.raises(SealError):
        sealer.open(sealer.seal(PLAINTEXT, AAD) + b"\x00", AAD)


def test_an_unknown_version_byte_is_refused(sealer: Sealer) -> None:
    sealed = sealer.seal(PLAINTEXT, AAD)
    with pytest.raises(SealError, match="malformed"):
        sealer.open(b"\x02" + sealed[1:], AAD)

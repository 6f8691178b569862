"""Envelope encryption: fresh data keys, bound context, every tampered byte refused."""

from __future__ import annotations

import base64
import os
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.crypto.envelope import (
    Envelope,
    EnvelopeError,
    KeyEncryptionKey,
    SealedSecret,
    UnknownKek,
    bind,
    decode_kek,
    kek_fingerprint,
)

KEK = KeyEncryptionKey(bytes(range(32)))
OTHER_KEK = KeyEncryptionKey(bytes(range(1, 33)))
CONTEXT = bind("credential", "org-1", "cred-1", 1)
PLAINTEXT = b'{"value":"canary-\xc3\xa9-secret"}'


def _with(sealed: SealedSecret, part: str, blob: bytes) -> SealedSecret:
    if part == "ciphertext":
        return replace(sealed, ciphertext=blob)
    return replace(sealed, wrapped_key=blob)


@pytest.fixture
def envelope() -> Envelope:
    return Envelope(KEK)


@pytest.mark.parametrize("plaintext", [b"", b"x", PLAINTEXT, os.urandom(5000)])
def test_round_trip(envelope: Envelope, plaintext: bytes) -> None:
    assert envelope.open(envelope.seal(plaintext, CONTEXT), CONTEXT) == plaintext


def test_each_version_gets_a_fresh_data_key_and_nonce(envelope: Envelope) -> None:
    first, second = envelope.seal(PLAINTEXT, CONTEXT), envelope.seal(PLAINTEXT, CONTEXT)
    assert first.ciphertext != second.ciphertext
    assert envelope.unwrap(first, CONTEXT) != envelope.unwrap(second, CONTEXT)
    assert len(envelope.unwrap(first, CONTEXT)) == 32


def test_nothing_stored_holds_the_plaintext_or_a_key(envelope: Envelope) -> None:
    sealed = envelope.seal(PLAINTEXT, CONTEXT)
    data_key = envelope.unwrap(sealed, CONTEXT)
    stored = sealed.ciphertext + sealed.wrapped_key + sealed.kek_id.encode()
    for secret in (PLAINTEXT, b"canary", data_key, KEK.key):
        assert secret not in stored
    assert "canary" not in repr(sealed)
    assert KEK.key.hex() not in repr(KEK)


def test_the_kek_id_is_a_keyed_fingerprint_not_the_key() -> None:
    assert KEK.kek_id == kek_fingerprint(KEK.key)
    assert KEK.kek_id != OTHER_KEK.kek_id
    assert base64.urlsafe_b64encode(KEK.key).decode() not in KEK.kek_id
    assert KEK.key.hex() not in KEK.kek_id


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
def test_every_flipped_byte_is_refused(envelope: Envelope, part: str) -> None:
    sealed = envelope.seal(PLAINTEXT, CONTEXT)
    blob: bytes = getattr(sealed, part)
    # Byte 0 is the format, 1..12 the nonce, then ciphertext, then the 16-byte tag.
    for index in range(len(blob)):
        for flip in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= flip
            with pytest.raises(EnvelopeError):
                envelope.open(_with(sealed, part, bytes(tampered)), CONTEXT)


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
@pytest.mark.parametrize("cut", [1, 13, 16, 29])
def test_truncated_or_extended_blobs_are_refused(envelope: Envelope, part: str, cut: int) -> None:
    sealed = envelope.seal(PLAINTEXT, CONTEXT)
    blob: bytes = getattr(sealed, part)
    for changed in (blob[:-cut], blob + b"\x00" * cut, blob[:cut], b""):
        with pytest.raises(EnvelopeError):
            envelope.open(_with(sealed, part, changed), CONTEXT)


@pytest.mark.parametrize(
    "other",
    [
        bind("credential", "org-2", "cred-1", 1),  # another organization
        bind("credential", "org-1", "cred-2", 1),  # another credential
        bind("credential", "org-1", "cred-1", 2),  # another version
        bind("credential", "org-1", "cred-1", 0),
        bind("connection", "org-1", "cred-1", 1),  # another purpose
        bind("credential", "org-1cred-1", "", 1),  # the parts run together
        b"",
    ],
)
def test_a_row_moved_to_another_context_does_not_open(envelope: Envelope, other: bytes) -> None:
    sealed = envelope.seal(PLAINTEXT, CONTEXT)
    with pytest.raises(EnvelopeError):
        envelope.open(sealed, other)


def test_swapping_ciphertext_or_wrapped_key_between_rows_is_refused(envelope: Envelope) -> None:
    context_b = bind("credential", "org-1", "cred-2", 1)
    a, b = envelope.seal(PLAINTEXT, CONTEXT), envelope.seal(b"other", context_b)
    for mixed in (
        SealedSecret(b.ciphertext, a.wrapped_key, a.kek_id),
        SealedSecret(a.ciphertext, b.wrapped_key, a.kek_id),
        b,
    ):
        with pytest.raises(EnvelopeError):
            envelope.open(mixed, CONTEXT)


def test_the_wrong_kek_does_not_unwrap() -> None:
    sealed = Envelope(KEK).seal(PLAINTEXT, CONTEXT)
    impostor = KeyEncryptionKey(OTHER_KEK.key, kek_id=KEK.kek_id)  # claims the right id
    with pytest.raises(EnvelopeError):
        Envelope(impostor).open(sealed, CONTEXT)
    with pytest.raises(UnknownKek, match="AUTHGATE_VAULT_PREVIOUS_KEKS"):
        Envelope(OTHER_KEK).open(sealed, CONTEXT)


def test_rewrap_moves_the_data_key_to_the_current_kek_only() -> None:
    sealed = Envelope(KEK).seal(PLAINTEXT, CONTEXT)
    rotating = Envelope(OTHER_KEK, [KEK])
    assert rotating.open(sealed, CONTEXT) == PLAINTEXT  # the previous KEK still unwraps

    rewrapped = rotating.rewrap(sealed, CONTEXT)

    assert rewrapped.kek_id == OTHER_KEK.kek_id
    assert rewrapped.ciphertext == sealed.ciphertext
    assert Envelope(OTHER_KEK).open(rewrapped, CONTEXT) == PLAINTEXT
    with pytest.raises(UnknownKek):
        Envelope(KEK).open(rewrapped, CONTEXT)
    assert rotating.kek_ids == {KEK.kek_id, OTHER_KEK.kek_id}


def test_an_unknown_format_byte_is_refused(envelope: Envelope) -> None:
    sealed = envelope.seal(PLAINTEXT, CONTEXT)
    with pytest.raises(EnvelopeError, match="malformed"):
        envelope.open(replace(sealed, ciphertext=b"\x02" + sealed.ciphertext[1:]), CONTEXT)


@given(st.lists(st.text(max_size=5), max_size=4), st.lists(st.text(max_size=5), max_size=4))
def test_bind_is_unambiguous(left: list[str], right: list[str]) -> None:
    assert (bind(*left) == bind(*right)) == (left == right)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_a_kek_must_be_32_bytes(length: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        KeyEncryptionKey(b"k" * length)
    with pytest.raises(ValueError, match="32 random bytes"):
        decode_kek(base64.b64encode(b"k" * length).decode(), "AUTHGATE_VAULT_KEK")


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_decode_kek_accepts_base64_and_base64url(encode: object) -> None:
    raw = bytes([250, 251, 252, 253, 254, 255] * 5 + [0, 1])
    text = encode(raw).decode()  # type: ignore[operator]
    assert decode_kek(text, "x").key == raw
    assert decode_kek(text.rstrip("=") + "\n", "x").key == raw


def test_decode_kek_errors_never_show_the_value() -> None:
    with pytest.raises(ValueError) as caught:
        decode_kek("not-a-key-canary-value", "AUTHGATE_VAULT_KEK")
    assert "canary" not in str(caught.value)
    assert "AUTHGATE_VAULT_KEK" in str(caught.value)

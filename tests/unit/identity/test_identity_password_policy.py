"""The password policy: length 8-1,024, NFC, common and personal passwords refused, no rules."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import PayloadTooLarge, ValidationFailed, WeakPassword
from authgate.identity.password_policy import (
    MAX_LENGTH,
    MIN_LENGTH,
    bundled_common_passwords,
    check_password,
    normalise_password,
)


def test_the_limits_are_the_documented_ones() -> None:
    assert MIN_LENGTH == 8
    assert MAX_LENGTH == 1024


def test_eight_characters_is_enough_and_seven_is_not() -> None:
    assert check_password("q7#vLp2x") == "q7#vLp2x"
    with pytest.raises(WeakPassword, match="at least 8"):
        check_password("q7#vLp2")
    with pytest.raises(WeakPassword):
        check_password("")


def test_up_to_1024_characters_are_accepted_and_kept_whole() -> None:
    long = "horse battery " * 73 + "xy"
    assert len(long) == 1024
    assert check_password(long) == long


def test_more_than_1024_characters_is_payload_too_large() -> None:
    with pytest.raises(PayloadTooLarge) as caught:
        check_password("a" * 1025)
    assert caught.value.status == 413
    with pytest.raises(PayloadTooLarge):
        check_password("ü" * 1_000_000)


def test_weak_password_is_a_422_validation_error() -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password("short")
    assert isinstance(caught.value, ValidationFailed)
    assert caught.value.status == 422
    assert caught.value.code == "weak_password"


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",  # all lower case, spaces
        "abcdefghijkl",  # lower-case letters only
        "tr0ub4dor&3 but longer",
        "        x",  # mostly spaces
        "12345678901234567890",  # digits only, not in the list
    ],
)
def test_no_composition_rules(password: str) -> None:
    assert check_password(password) == password


@pytest.mark.parametrize(
    "password",
    [
        "пароль-надёжный",
        "密码很长很安全的",
        "🔑🔒🗝️🔐🔓🛡️🧱🚪",
        "κωδικός πρόσβασης",
        "パスワードですよ",
    ],
)
def test_unicode_and_emoji_are_accepted(password: str) -> None:
    assert check_password(password) == unicodedata.normalize("NFC", password)


def test_composed_and_decomposed_forms_normalise_to_the_same_password() -> None:
    composed = "caf\u00e9 au lait!"
    decomposed = "cafe\u0301 au lait!"
    assert composed != decomposed
    assert check_password(composed) == check_password(decomposed) == composed
    assert normalise_password(decomposed) == composed
    assert unicodedata.is_normalized("NFC", check_password("Å" + "\u030a" + "ngstrom-x"))


def test_length_is_counted_after_normalisation() -> None:
    # Eight code points as typed, four characters once composed.
    with pytest.raises(WeakPassword):
        check_password("e\u0301" * 4)


def test_the_bundled_list_is_loaded_and_lower_case() -> None:
    common = bundled_common_passwords()
    assert len(common) > 10_000
    assert {"password", "12345678", "iloveyou", "baseball"} <= common
    assert all(entry == entry.lower() for entry in list(common)[:2000])
    assert not any(entry.startswith("#") for entry in common)


@pytest.mark.parametrize(
    "password", ["password", "PASSWORD", "Password", "pAsSwOrD", "12345678", "Iloveyou", "TRUSTNO1"]
)
def test_common_passwords_are_refused_whatever_the_case(password: str) -> None:
    with pytest.raises(WeakPassword, match="common"):
        check_password(password)


@pytest.mark.parametrize(
    ("password", "email", "name"),
    [
        ("alice.smith@example.com", "alice.smith@example.com", ""),
        ("ALICE.SMITH@EXAMPLE.COM", "alice.smith@example.com", ""),
        ("alice.smith", "alice.smith@example.com", ""),
        ("Alice.Smith", "alice.smith@example.com", ""),
        ("Alice Smithson", "a@example.com", "Alice Smithson"),
        ("alice smithson", "a@example.com", "Alice Smithson"),
    ],
)
def test_the_users_own_email_or_name_is_refused(password: str, email: str, name: str) -> None:
    with pytest.raises(WeakPassword, match="email address or your name"):
        check_password(password, email=email, display_name=name)


def test_without_context_the_same_strings_are_fine() -> None:
    assert check_password("alice.smith") == "alice.smith"
    assert check_password("Alice Smithson") == "Alice Smithson"


@pytest.mark.parametrize("value", [None, 12345678, b"password1234", ["password1234"]])
def test_a_non_string_is_refused(value: object) -> None:
    with pytest.raises(WeakPassword):
        check_password(value)  # type: ignore[arg-type]


@given(password=st.text(max_size=1100))
def test_check_password_only_raises_policy_errors(password: str) -> None:
    try:
        result = check_password(password, email="someone@example.com", display_name="Some One")
    except (WeakPassword, PayloadTooLarge):
        return
    assert result == unicodedata.normalize("NFC", password)
    assert len(result) >= MIN_LENGTH

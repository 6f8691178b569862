"""Email addresses: one lower-cased normal form, invalid and over-long addresses refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authgate.errors import ValidationFailed
from authgate.identity.emails import (
    MAX_EMAIL_LENGTH,
    domain_of,
    normalise_domain,
    normalise_email,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice@Example.COM", "alice@example.com"),
        ("  ALICE@EXAMPLE.COM \n", "alice@example.com"),
        ("alice+tag@sub.example.org", "alice+tag@sub.example.org"),
        ("first.last@example.test", "first.last@example.test"),
    ],
)
def test_normalise_email_lower_cases(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


def test_case_variants_normalise_to_one_address() -> None:
    variants = {"bob@example.com", "BOB@example.com", "Bob@EXAMPLE.com", " bob@Example.Com"}
    assert {normalise_email(v) for v in variants} == {"bob@example.com"}


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "no-at-sign",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "alice@example",
        "alice smith@example.com",
        "alice@exa mple.com",
        "alice@example..com",
        ".alice@example.com",
        "alice.@example.com",
        "alice@-example.com",
        "alice@example.com\r\nBcc: victim@example.com",
        "alice@example.com\x00",
        "<alice@example.com>",
        "Alice <alice@example.com>",
        "alice@[127.0.0.1]",
    ],
)
def test_invalid_addresses_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        normalise_email(raw)
    assert caught.value.status == 422


def test_over_long_addresses_are_refused() -> None:
    domain = ".".join(["a" * 60] * 3) + ".com"  # 187 characters
    within = "b" * 60 + "@" + domain
    assert len(within) <= MAX_EMAIL_LENGTH
    assert normalise_email(within) == within
    too_long = "b" * 64 + "@" + ".".join(["a" * 60] * 4) + ".com"
    assert len(too_long) > MAX_EMAIL_LENGTH
    with pytest.raises(ValidationFailed, match="254"):
        normalise_email(too_long)
    with pytest.raises(ValidationFailed):
        normalise_email("a@" + "b" * 10_000 + ".com")


@pytest.mark.parametrize("value", [None, 1, b"alice@example.com", ["alice@example.com"]])
def test_a_non_string_is_refused(value: object) -> None:
    with pytest.raises(ValidationFailed):
        normalise_email(value)  # type: ignore[arg-type]


def test_domain_of_and_normalise_domain() -> None:
    assert domain_of("alice@example.com") == "example.com"
    assert normalise_domain(" Example.COM. ") == "example.com"
    for bad in ("", "example", "exa mple.com", "@example.com", "example..com", "-x.com"):
        with pytest.raises(ValidationFailed):
            normalise_domain(bad)


@given(raw=st.text(max_size=300))
def test_normalise_email_fails_only_with_validation_failed(raw: str) -> None:
    try:
        result = normalise_email(raw)
    except ValidationFailed:
        return
    assert result == result.lower()
    assert result.count("@") == 1
    assert len(result) <= MAX_EMAIL_LENGTH


@given(local=st.from_regex(r"[A-Za-z0-9._+-]{1,20}", fullmatch=True))
def test_normalisation_is_idempotent(local: str) -> None:
    try:
        once = normalise_email(f"{local}@Example.com")
    except ValidationFailed:
        return
    assert normalise_email(once) == once

"""Email addresses: one normal form, so that uniqueness and domain routing agree."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from authgate.errors import ValidationFailed

MAX_EMAIL_LENGTH = 254


def normalise_email(raw: str) -> str:
    """Validate syntax (no DNS lookups) and return the lower-cased address."""
    if not isinstance(raw, str) or len(raw) > MAX_EMAIL_LENGTH:
        raise ValidationFailed("email must be an address of at most 254 characters")
    try:
        result = validate_email(raw.strip(), check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"email is not a valid address: {exc}") from None
    return result.normalized.lower()


def domain_of(email: str) -> str:
    """The lower-cased domain of a normalised address."""
    return email.rsplit("@", 1)[1].lower()


def normalise_domain(raw: str) -> str:
    """A bare email domain such as ``example.com`` (lower-case, IDNA-checked)."""
    candidate = raw.strip().lower().rstrip(".")
    try:
        return domain_of(normalise_email(f"check@{candidate}"))
    except ValidationFailed:
        raise ValidationFailed(f"'{raw[:100]}' is not a valid email domain") from None

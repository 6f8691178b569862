"""The password policy (OWASP ASVS 5.0 V6.2, NIST SP 800-63B §3.1.1.2).

Passwords are normalised to Unicode NFC, so the same password typed on different keyboards
hashes the same; nothing is truncated. Length 8 to 1,024 characters, no composition rules;
the most common passwords, and ones made of the user's own email or name, are refused.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib.resources import files

from authgate.errors import PayloadTooLarge, WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 1024


def normalise_password(password: str) -> str:
    """NFC form; the same text always yields the same hash input."""
    return unicodedata.normalize("NFC", password)


@lru_cache(maxsize=1)
def bundled_common_passwords() -> frozenset[str]:
    """The bundled list of common passwords (lower-case)."""
    text = files("authgate.identity").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, *, email: str = "", display_name: str = "") -> str:
    """Return the normalised password, or raise :class:`WeakPassword` saying why."""
    if not isinstance(password, str):
        raise WeakPassword("password must be a string")
    if len(password) > MAX_LENGTH:
        raise PayloadTooLarge(f"password must be at most {MAX_LENGTH} characters")
    normalised = normalise_password(password)
    if len(normalised) < MIN_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_LENGTH} characters")
    folded = normalised.casefold()
    if folded in bundled_common_passwords():
        raise WeakPassword("password is one of the most common passwords; choose another")
    local_part = email.split("@", 1)[0].casefold()
    context = {email.casefold(), local_part, display_name.casefold()} - {""}
    if folded in context:
        raise WeakPassword("password must not be your email address or your name")
    return normalised

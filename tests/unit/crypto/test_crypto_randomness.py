"""Identifiers and secrets come from the CSPRNG in the documented shapes."""

from __future__ import annotations

import re
import uuid

from authgate.crypto.randomness import new_id, new_secret

URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def test_new_id_is_a_canonical_uuid4() -> None:
    value = new_id()
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value


def test_new_ids_do_not_repeat() -> None:
    assert len({new_id() for _ in range(1000)}) == 1000


def test_new_secret_has_the_requested_entropy_in_url_safe_characters() -> None:
    secret = new_secret()
    assert URLSAFE.match(secret)
    # 32 bytes of entropy in unpadded base64url: 43 characters.
    assert len(secret) == 43
    assert len(new_secret(16)) == 22


def test_new_secrets_do_not_repeat() -> None:
    assert len({new_secret() for _ in range(1000)}) == 1000

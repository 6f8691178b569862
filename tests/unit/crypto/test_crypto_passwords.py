"""argon2id password hashing at or above the OWASP minimum (m=19 MiB, t=2, p=1).

Each argon2 call costs tens of milliseconds, so these tests make as few as they can.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import argon2
import pytest

from authgate.crypto.passwords import Argon2Hasher

OWASP_MEMORY_KIB = 19 * 1024
OWASP_TIME_COST = 2
HASH_FORMAT = re.compile(
    r"^\$argon2id\$v=19\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$"
)


@pytest.fixture
def hasher() -> Iterator[Argon2Hasher]:
    hasher = Argon2Hasher(memory_kib=OWASP_MEMORY_KIB, time_cost=OWASP_TIME_COST, max_workers=2)
    yield hasher
    hasher.close()


def _cheap_hash(password: str, *, type_: argon2.Type = argon2.Type.ID) -> str:
    """A deliberately weak legacy hash (fast), as an old deployment would have stored."""
    return argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=type_).hash(
        password
    )


async def test_hash_is_argon2id_with_parameters_at_or_above_owasp(hasher: Argon2Hasher) -> None:
    password_hash = await hasher.hash("correct horse battery staple")
    found = HASH_FORMAT.match(password_hash)
    assert found, password_hash
    assert int(found["m"]) >= OWASP_MEMORY_KIB
    assert int(found["t"]) >= OWASP_TIME_COST
    assert int(found["p"]) >= 1
    assert "correct horse" not in password_hash
    assert hasher.needs_rehash(password_hash) is False

    assert await hasher.verify(password_hash, "correct horse battery staple") is True
    assert await hasher.verify(password_hash, "correct horse battery staplE") is False


async def test_the_same_password_hashes_differently_each_time(hasher: Argon2Hasher) -> None:
    legacy = _cheap_hash("same password")
    assert legacy != _cheap_hash("same password")
    fresh = await hasher.hash("same password")
    assert fresh != legacy


async def test_no_truncation_of_long_passwords(hasher: Argon2Hasher) -> None:
    base = "x" * 999
    password_hash = await hasher.hash(base + "a")
    assert await hasher.verify(password_hash, base + "b") is False


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=19$m=19456,t=2,p=1$$",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "pbkdf2_sha256$600000$salt$hash",
    ],
)
async def test_a_malformed_hash_never_verifies(hasher: Argon2Hasher, malformed: str) -> None:
    assert await hasher.verify(malformed, "password") is False
    assert hasher.needs_rehash(malformed) is True


async def test_a_weaker_legacy_hash_still_verifies_and_asks_for_a_rehash(
    hasher: Argon2Hasher,
) -> None:
    legacy = _cheap_hash("old password")
    assert await hasher.verify(legacy, "old password") is True
    assert await hasher.verify(legacy, "new password") is False
    assert hasher.needs_rehash(legacy) is True
    assert hasher.needs_rehash(_cheap_hash("x", type_=argon2.Type.I)) is True


def test_stronger_configured_parameters_ask_for_a_rehash() -> None:
    current = argon2.PasswordHasher(
        time_cost=OWASP_TIME_COST, memory_cost=OWASP_MEMORY_KIB, parallelism=1
    )
    # Build a hash string with the current parameters without paying for argon2 twice.
    params = f"m={OWASP_MEMORY_KIB},t={OWASP_TIME_COST},p=1"
    sample = f"$argon2id$v=19${params}$c2FsdHNhbHRzYWx0c2FsdA$" + "A" * 43
    assert current.check_needs_rehash(sample) is False
    for stronger in (
        Argon2Hasher(memory_kib=OWASP_MEMORY_KIB * 2, time_cost=OWASP_TIME_COST),
        Argon2Hasher(memory_kib=OWASP_MEMORY_KIB, time_cost=OWASP_TIME_COST + 1),
        Argon2Hasher(memory_kib=OWASP_MEMORY_KIB, time_cost=OWASP_TIME_COST, parallelism=2),
    ):
        try:
            assert stronger.needs_rehash(sample) is True
        finally:
            stronger.close()


async def test_burn_spends_one_real_verification(
    hasher: Argon2Hasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    results: list[bool] = []
    real_verify = hasher.verify

    async def counting_verify(password_hash: str, password: str) -> bool:
        result = await real_verify(password_hash, password)
        results.append(result)
        return result

    monkeypatch.setattr(hasher, "verify", counting_verify)
    await hasher.burn()
    await hasher.burn()
    # One argon2 verification per call, against a real hash, that never succeeds.
    assert results == [False, False]

"""Verified tokens are remembered: the signature is checked once, the times and key always."""

from __future__ import annotations

from typing import Any

import pytest

from authgate.errors import InvalidToken
from authgate.tokens import access as access_module
from authgate.tokens import jws
from authgate.tokens.access import AccessTokens
from authgate.tokens.keyring import Keyring


def _issue(access: AccessTokens, subject: str = "user-1") -> str:
    return access.issue(
        subject=subject,
        org_id="org-1",
        roles=("USER",),
        client_id="authgate-device",
        scope="openid",
        session_id="session-1",
    )


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = jws.verify

    def counting(token: str, find_key: Any) -> Any:
        seen.append(token)
        return real(token, find_key)

    monkeypatch.setattr(access_module.jws, "verify", counting)
    return seen


def test_a_repeated_token_is_checked_once(
    access: AccessTokens, signature_checks: list[str]
) -> None:
    token = _issue(access)
    first, second = access.verify(token), access.verify(token)
    assert first == second
    assert signature_checks == [token]


def test_a_remembered_token_still_expires(access: AccessTokens, clock: Any) -> None:
    token = _issue(access)
    access.verify(token)
    clock.advance(86400)
    with pytest.raises(InvalidToken, match="expired"):
        access.verify(token)


def test_a_remembered_token_fails_once_its_key_is_withdrawn(
    access: AccessTokens, keyring: Keyring, new_key: Any
) -> None:
    token = _issue(access)
    access.verify(token)
    replacement = new_key()
    keyring.load([replacement.signer], [replacement.jwk])  # the old key is gone
    with pytest.raises(InvalidToken):
        access.verify(token)


def test_a_tampered_copy_of_a_remembered_token_is_checked_in_full(
    access: AccessTokens, signature_checks: list[str]
) -> None:
    token = _issue(access)
    access.verify(token)
    header, payload, signature = token.split(".")
    # A middle character: every one of its bits is part of the signature.
    flipped = "B" if signature[10] == "A" else "A"
    tampered = f"{header}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
    with pytest.raises(InvalidToken):
        access.verify(tampered)
    assert signature_checks == [token, tampered]


def test_the_memory_is_bounded(
    access: AccessTokens, signature_checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(access_module, "VERIFIED_CACHE_SIZE", 2)
    tokens = [_issue(access, f"user-{n}") for n in range(3)]
    for token in tokens:
        access.verify(token)
    access.verify(tokens[2])  # remembered
    access.verify(tokens[0])  # forgotten: the oldest went out
    assert signature_checks == [*tokens, tokens[0]]

"""Property tests: no input makes access-token verification fail other than with InvalidToken.

A verifier that raises anything else (a decoding error, a recursion error) turns an attacker's
token into a 500; one that accepts a changed token is broken. Every string that differs from a
valid token must be refused.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authgate.crypto import ed25519
from authgate.errors import InvalidToken
from authgate.tokens.access import AccessTokens
from authgate.tokens.keyring import Keyring

NOW = datetime(2030, 1, 1, tzinfo=UTC)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Mostly base64url and dots (mutations that stay token-shaped), sometimes any character.
MUTATION_TEXT = st.text(alphabet=st.sampled_from(B64URL + ".="), min_size=1, max_size=3) | st.text(
    min_size=1, max_size=3
)


@pytest.fixture(scope="module")
def access() -> AccessTokens:
    signer, jwk, _ = ed25519.generate()
    keyring = Keyring()
    keyring.load([signer], [jwk])
    return AccessTokens(
        issuer="https://id.example.com",
        audience="authgate",
        ttl=900,
        keyring=keyring,
        clock=lambda: NOW,
    )


@pytest.fixture(scope="module")
def token(access: AccessTokens) -> str:
    return access.issue(
        subject="user-1",
        org_id="org-1",
        roles=("MEMBER",),
        client_id="authgate-device",
        scope="openid",
        session_id="session-1",
    )


def _only_invalid_token(access: AccessTokens, candidate: str, original: str | None) -> None:
    try:
        access.verify(candidate)
    except InvalidToken:
        return
    # Accepted: only the untouched original may be.
    assert candidate == original, f"a changed token was accepted: {candidate!r}"


@settings(max_examples=300)
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_refused_with_invalid_token(access: AccessTokens, text: str) -> None:
    _only_invalid_token(access, text, None)


@settings(max_examples=300)
@given(
    parts=st.lists(st.text(alphabet=B64URL, max_size=120), min_size=1, max_size=5),
)
def test_token_shaped_garbage_is_refused_with_invalid_token(
    access: AccessTokens, parts: list[str]
) -> None:
    _only_invalid_token(access, ".".join(parts), None)


mutation = st.tuples(
    st.sampled_from(["replace", "insert", "delete"]),
    st.integers(min_value=0, max_value=10_000),
    MUTATION_TEXT,
)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutations_of_a_valid_token_are_refused(
    access: AccessTokens, token: str, mutations: list[tuple[str, int, str]]
) -> None:
    assert access.verify(token).subject == "user-1"
    mutated = token
    for operation, position, text in mutations:
        index = position % (len(mutated) + 1)
        if operation == "replace":
            mutated = mutated[:index] + text + mutated[index + len(text) :]
        elif operation == "insert":
            mutated = mutated[:index] + text + mutated[index:]
        else:
            mutated = mutated[:index] + mutated[index + len(text) :]
    _only_invalid_token(access, mutated, token)


@settings(max_examples=200)
@given(header=st.dictionaries(st.text(max_size=8), st.none() | st.integers() | st.text(max_size=8)))
def test_header_members_never_crash_the_verifier(
    access: AccessTokens, token: str, header: dict[str, object]
) -> None:
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    _, payload, signature = token.split(".")
    _only_invalid_token(access, f"{encoded}.{payload}.{signature}", token)

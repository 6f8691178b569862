"""ID-token validation as pure logic: algorithms, keys, the Entra ID tenant template, the
time window's edges, and a fuzzer that may only ever get :class:`InvalidIdToken` back."""

from __future__ import annotations

import contextlib
import json
import warnings
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

from authgate.federation.errors import InvalidIdToken
from authgate.federation.id_token import LEEWAY, MAX_AGE, Expected, validate
from authgate.federation.jwks import Key
from authgate.federation.metadata import SIGNING_ALGORITHMS, ProviderMetadata
from authgate.federation.models import IdpType

NOW = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
ISSUER = "https://idp.example/oauth2/default"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "00000000-0000-4000-8000-000000000001"
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
OKP = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
KEYS: dict[str, Key] = {"rsa-1": RSA, "ec-1": EC, "ed-1": OKP}


async def find_key(_uri: str, kid: str | None, _alg: str) -> Key | None:
    return KEYS.get(kid or "")


def metadata(
    issuer: str = ISSUER, algorithms: tuple[str, ...] = SIGNING_ALGORITHMS
) -> ProviderMetadata:
    return ProviderMetadata(issuer, f"{issuer}/a", f"{issuer}/t", f"{issuer}/k", None, algorithms)


def expected(**changes: Any) -> Expected:
    values: dict[str, Any] = {
        "idp_type": IdpType.OKTA,
        "metadata": metadata(),
        "audience": "client",
        "nonce": "n-1",
        "tenants": frozenset(),
        "now": NOW,
    }
    values.update(changes)
    return Expected(**values)


def claims(**changes: Any) -> dict[str, Any]:
    at = int(NOW.timestamp())
    values: dict[str, Any] = {
        "iss": ISSUER, "sub": "s-1", "aud": "client", "iat": at, "exp": at + 300, "nonce": "n-1",
    }  # fmt: skip
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


def signed(payload: dict[str, Any], key: Key = RSA, alg: str = "RS256", **header: Any) -> str:
    head = {"alg": alg, "kid": key.kid, **header}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SecurityWarning)  # EdDSA, deprecated by RFC 9864
        return jws.serialize_compact(head, json.dumps(payload), key, algorithms=[alg])


@pytest.mark.parametrize(
    ("key", "alg"),
    [(RSA, "RS256"), (RSA, "PS256"), (EC, "ES256"), (OKP, "EdDSA"), (OKP, "Ed25519")],
)
async def test_every_asymmetric_algorithm_the_idp_lists_verifies(key: Key, alg: str) -> None:
    found = await validate(signed(claims(), key, alg), expected(), find_key)

    assert (found.issuer, found.subject) == (ISSUER, "s-1")


async def test_an_algorithm_the_idp_does_not_list_is_refused() -> None:
    token = signed(claims(), EC, "ES256")

    with pytest.raises(InvalidIdToken, match="algorithm"):
        await validate(token, expected(metadata=metadata(algorithms=("RS256",))), find_key)


async def test_a_key_of_another_type_than_the_algorithm_is_not_used() -> None:
    token = signed(claims(), RSA, "RS256")
    header = {"alg": "ES256", "kid": "rsa-1"}
    forged = jws.serialize_compact(header, json.dumps(claims()), EC, algorithms=["ES256"])

    with pytest.raises(InvalidIdToken, match="signature"):
        await validate(forged, expected(), find_key)
    assert (await validate(token, expected(), find_key)).subject == "s-1"


@pytest.mark.parametrize(
    ("changes", "accepted"),
    [
        ({"exp": int(NOW.timestamp()) - int(LEEWAY.total_seconds()) + 1}, True),
        ({"exp": int(NOW.timestamp()) - int(LEEWAY.total_seconds())}, False),
        ({"iat": int(NOW.timestamp()) + int(LEEWAY.total_seconds())}, True),
        ({"iat": int(NOW.timestamp()) + int(LEEWAY.total_seconds()) + 1}, False),
        ({"iat": int((NOW - MAX_AGE - LEEWAY).timestamp())}, True),
        ({"iat": int((NOW - MAX_AGE - LEEWAY).timestamp()) - 1}, False),
        ({"iat": True}, False),
        ({"aud": ["client"]}, True),
        ({"aud": ["client", "x"], "azp": "client"}, True),
        ({"aud": ["client", "x"]}, False),
        ({"aud": "client", "azp": "x"}, False),
        ({"aud": 7}, False),
        ({"nonce": "n-1 "}, False),
        ({"sub": ""}, False),
        ({"sub": 5}, False),
    ],
)
async def test_the_claim_checks_at_their_edges(changes: dict[str, Any], accepted: bool) -> None:
    token = signed(claims(**changes))

    if accepted:
        assert (await validate(token, expected(), find_key)).subject == "s-1"
    else:
        with pytest.raises(InvalidIdToken):
            await validate(token, expected(), find_key)


async def test_a_nonce_is_refused_when_the_login_sent_none() -> None:
    with pytest.raises(InvalidIdToken, match="did not send"):
        await validate(signed(claims()), expected(nonce=None), find_key)
    assert await validate(signed(claims(nonce=None)), expected(nonce=None), find_key)


def entra(**changes: Any) -> dict[str, Any]:
    issuer = f"https://login.example/{TENANT}/v2.0"
    return claims(**{"iss": issuer, "tid": TENANT, "oid": "o-1", **changes})


ENTRA = {
    "idp_type": IdpType.ENTRA,
    "metadata": metadata("https://login.example/{tenantid}/v2.0"),
    "tenants": frozenset({TENANT}),
}


async def test_an_entra_token_fills_the_template_with_its_allowed_tenant() -> None:
    found = await validate(signed(entra()), expected(**ENTRA), find_key)

    assert found.identity_key == (f"https://login.example/{TENANT}/v2.0", "o-1")
    assert found.tenant == TENANT


@pytest.mark.parametrize(
    "changes",
    [
        {"tid": OTHER_TENANT, "iss": f"https://login.example/{OTHER_TENANT}/v2.0"},
        {"iss": f"https://login.example/{OTHER_TENANT}/v2.0"},
        {"tid": "not-a-guid"},
        {"tid": TENANT.upper(), "iss": f"https://login.example/{TENANT.upper()}/v2.0"},
        {"iss": "https://login.example/{tenantid}/v2.0"},
        {"oid": None},
    ],
)
async def test_an_entra_token_of_another_tenant_or_issuer_is_refused(
    changes: dict[str, Any],
) -> None:
    with pytest.raises(InvalidIdToken):
        await validate(signed(entra(**changes)), expected(**ENTRA), find_key)


async def test_claims_of_other_types_are_not_read_as_entra_keys() -> None:
    """An Okta token carrying tid and oid is still keyed by (issuer, sub)."""
    found = await validate(signed(claims(tid=TENANT, oid="o-1")), expected(), find_key)

    assert found.identity_key == (ISSUER, "s-1")
    assert found.tenant is None


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=300)
    | st.from_regex(r"[A-Za-z0-9_\-]{0,40}\.[A-Za-z0-9_\-]{0,40}\.[A-Za-z0-9_\-]{0,40}")
)
async def test_any_input_is_refused_with_invalid_id_token(token: str) -> None:
    with pytest.raises(InvalidIdToken):
        await validate(token, expected(), find_key)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["iss", "sub", "aud", "iat", "exp", "nbf", "nonce", "azp"]),
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=20)
        | st.lists(st.text(max_size=5), max_size=3),
    )
)
async def test_any_signed_claims_either_validate_or_are_refused_cleanly(
    payload: dict[str, Any],
) -> None:
    with contextlib.suppress(InvalidIdToken):
        await validate(signed(payload), expected(), find_key)

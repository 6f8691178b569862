"""EdDSA access tokens (RFC 9068): what we issue, and everything a forger might try instead."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from authgate.errors import InvalidToken
from authgate.tokens.access import AccessClaims, AccessTokens
from authgate.tokens.keyring import Keyring

ISSUER = "https://id.example.com"
AUDIENCE = "authgate"
TTL = 900
CLAIM_NAMES = {
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "jti",
    "client_id",
    "scope",
    "org",
    "roles",
    "sid",
}


def _issue(access: AccessTokens, *, session_id: str | None = "session-1") -> str:
    return access.issue(
        subject="user-1",
        org_id="org-1",
        roles=("ADMIN", "MEMBER"),
        client_id="authgate-device",
        scope="openid profile offline_access",
        session_id=session_id,
    )


def _decode_part(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _rejected(access: AccessTokens, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        access.verify(token)
    assert caught.value.status == 401
    assert caught.value.code == "invalid_token"
    return caught.value


# --- What we issue -----------------------------------------------------------------------


def test_issue_verify_round_trip(access: AccessTokens, clock: Any) -> None:
    token = _issue(access)
    claims = access.verify(token)
    assert claims == AccessClaims(
        subject="user-1",
        org_id="org-1",
        roles=("ADMIN", "MEMBER"),
        client_id="authgate-device",
        scope="openid profile offline_access",
        session_id="session-1",
        issued_at=clock.timestamp(),
        expires_at=clock.timestamp() + TTL,
        token_id=claims.token_id,
    )
    assert claims.is_user


def test_a_service_client_token_has_no_session(access: AccessTokens) -> None:
    token = _issue(access, session_id=None)
    assert "sid" not in _decode_part(token.split(".")[1])
    claims = access.verify(token)
    assert claims.session_id is None
    assert not claims.is_user


def test_every_claim_and_header_is_present(access: AccessTokens, clock: Any, key: Any) -> None:
    header_part, payload_part, signature_part = _issue(access).split(".")
    header, payload = _decode_part(header_part), _decode_part(payload_part)
    assert header == {"typ": "at+jwt", "alg": "EdDSA", "kid": key.kid}
    assert set(payload) == CLAIM_NAMES
    assert payload["iss"] == ISSUER
    assert payload["aud"] == AUDIENCE
    assert payload["sub"] == "user-1"
    assert payload["org"] == "org-1"
    assert payload["roles"] == ["ADMIN", "MEMBER"]
    assert payload["client_id"] == "authgate-device"
    assert payload["scope"] == "openid profile offline_access"
    assert payload["sid"] == "session-1"
    assert payload["iat"] == clock.timestamp()
    assert payload["exp"] == clock.timestamp() + TTL
    assert isinstance(payload["jti"], str)
    assert len(payload["jti"]) >= 16  # a 96-bit random prefix, then a counter
    assert len(base64.urlsafe_b64decode(signature_part + "==")) == 64


def test_kid_is_the_rfc7638_thumbprint_of_the_published_key(
    access: AccessTokens, keyring: Keyring
) -> None:
    kid = _decode_part(_issue(access).split(".")[0])["kid"]
    (jwk,) = keyring.jwks()["keys"]
    canonical = json.dumps(
        {"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":")
    )
    assert kid == jwk["kid"] == _b64url(hashlib.sha256(canonical.encode()).digest())


def test_jwks_publishes_public_keys_only(keyring: Keyring) -> None:
    for jwk in keyring.jwks()["keys"]:
        assert "d" not in jwk
        assert set(jwk) <= {"kty", "crv", "x", "kid", "use", "alg"}


def test_every_token_has_its_own_jti(access: AccessTokens) -> None:
    ids = {access.verify(_issue(access)).token_id for _ in range(50)}
    assert len(ids) == 50


# --- Interoperability with an independent implementation (PyJWT) --------------------------


def test_pyjwt_verifies_our_tokens_with_our_jwks(access: AccessTokens, keyring: Keyring) -> None:
    token = _issue(access)
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "EdDSA"
    published = jwt.PyJWKSet.from_dict(keyring.jwks())
    signing_key = published[header["kid"]]
    decoded = jwt.decode(
        token,
        signing_key.key,
        algorithms=["EdDSA"],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": sorted(CLAIM_NAMES - {"sid"})},
    )
    assert decoded["sub"] == "user-1"
    assert decoded["roles"] == ["ADMIN", "MEMBER"]
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token, signing_key.key, algorithms=["EdDSA"], audience="someone-else")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBA"),
            signing_key.key,
            algorithms=["EdDSA"],
            audience=AUDIENCE,
        )


def test_we_verify_a_token_pyjwt_signed_with_our_key(
    access: AccessTokens, key: Any, claims: dict[str, Any]
) -> None:
    token = jwt.encode(
        claims, key.private_key, algorithm="EdDSA", headers={"typ": "at+jwt", "kid": key.kid}
    )
    assert access.verify(token).subject == "user-1"


# --- Algorithm confusion -----------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "", None])
def test_alg_none_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], alg: Any
) -> None:
    # None removes the member: a token without any alg.
    for signature in (b"", bytes(64)):
        token = forge({"alg": alg}, claims, raw_signature=signature)
        _rejected(access, token)
        # The unsigned form "header.payload." as well.
        _rejected(access, token.rsplit(".", 1)[0] + ".")


@pytest.mark.parametrize("alg", ["eddsa", "EDDSA", "Ed25519", "ES256", "RS256", "HS256", " EdDSA"])
def test_only_the_exact_alg_eddsa_is_accepted(
    access: AccessTokens, forge: Any, claims: dict[str, Any], alg: str
) -> None:
    # Correctly signed with our key, but labelled with another algorithm.
    _rejected(access, forge({"alg": alg}, claims))


def _hs256_secrets(key: Any) -> list[bytes]:
    public = key.private_key.public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    pem = public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    der = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return [raw, key.jwk["x"].encode(), pem, der, json.dumps(key.jwk).encode()]


def test_hs256_signed_with_our_public_key_is_refused(
    access: AccessTokens, key: Any, claims: dict[str, Any]
) -> None:
    header = {"typ": "at+jwt", "alg": "HS256", "kid": key.kid}
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    for secret in _hs256_secrets(key):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        _rejected(access, f"{signing_input}.{_b64url(mac)}")
    # The same attack built by a real JWT library.
    raw = _hs256_secrets(key)[0]
    pyjwt_token = jwt.encode(
        claims, raw, algorithm="HS256", headers={"typ": "at+jwt", "kid": key.kid}
    )
    _rejected(access, pyjwt_token)


# --- Tampering and malformed structure ---------------------------------------------------


def test_a_tampered_payload_is_refused(access: AccessTokens) -> None:
    header, payload, signature = _issue(access).split(".")
    claims = _decode_part(payload)
    for change in (
        {"roles": ["OWNER"]},
        {"sub": "user-2"},
        {"org": "org-2"},
        {"exp": claims["exp"] + 1},
    ):
        forged = _b64url(json.dumps({**claims, **change}, separators=(",", ":")).encode())
        _rejected(access, f"{header}.{forged}.{signature}")


def test_a_tampered_header_is_refused(access: AccessTokens, key: Any) -> None:
    _, payload, signature = _issue(access).split(".")
    for header in (
        {"typ": "at+jwt", "alg": "EdDSA", "kid": key.kid, "x5u": "https://evil.example"},
        {"alg": "EdDSA", "kid": key.kid, "typ": "at+jwt"},
        {"typ": "JWT", "alg": "EdDSA", "kid": key.kid},
    ):
        _rejected(access, f"{_b64url(json.dumps(header).encode())}.{payload}.{signature}")


def test_a_tampered_signature_is_refused(access: AccessTokens) -> None:
    header, payload, signature_part = _issue(access).split(".")
    signature = base64.urlsafe_b64decode(signature_part + "==")
    for index in range(0, 64, 7):
        for bit in (0x01, 0x80):
            flipped = bytearray(signature)
            flipped[index] ^= bit
            _rejected(access, f"{header}.{payload}.{_b64url(bytes(flipped))}")
    _rejected(access, f"{header}.{payload}.{_b64url(signature[:-1])}")
    longer = _b64url(signature + bytes(1))
    _rejected(access, f"{header}.{payload}.{longer}")
    _rejected(access, f"{header}.{payload}.{_b64url(bytes(64))}")


def test_a_signature_from_another_token_is_refused(access: AccessTokens) -> None:
    first, second = _issue(access).split("."), _issue(access, session_id="other").split(".")
    _rejected(access, f"{first[0]}.{first[1]}.{second[2]}")


def test_truncated_tokens_are_refused(access: AccessTokens) -> None:
    token = _issue(access)
    for length in range(0, len(token), 5):
        _rejected(access, token[:length])
    _rejected(access, token[:-1])
    _rejected(access, token.rsplit(".", 1)[0])
    _rejected(access, token.rsplit(".", 1)[0] + ".")


@pytest.mark.parametrize("suffix", [".", ".x", ".e30", "..", ".AAAA.AAAA"])
def test_extra_parts_are_refused(access: AccessTokens, suffix: str) -> None:
    _rejected(access, _issue(access) + suffix)


@pytest.mark.parametrize(
    "token", ["", ".", "..", "...", "a.b.c", "e30.e30.", "e30.e30.e30", "Bearer x", " " * 10]
)
def test_garbage_is_refused(access: AccessTokens, token: str) -> None:
    _rejected(access, token)


def test_non_canonical_base64url_is_refused(access: AccessTokens) -> None:
    header, payload, signature = _issue(access).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 64 signature bytes leave 4 unused low bits in the last of 86 characters.
    last = alphabet.index(signature[-1])
    twin = alphabet[last ^ 0x01]
    assert base64.urlsafe_b64decode(signature[:-1] + twin + "==") == base64.urlsafe_b64decode(
        signature + "=="
    )
    _rejected(access, f"{header}.{payload}.{signature[:-1]}{twin}")
    # Padding, the standard alphabet and whitespace are other spellings of the same bytes.
    _rejected(access, f"{header}.{payload}.{signature}==")
    _rejected(access, f"{header}==.{payload}.{signature}")
    _rejected(access, f"{header}.{payload}=.{signature}")
    standard = signature.replace("-", "+").replace("_", "/")
    if standard != signature:
        _rejected(access, f"{header}.{payload}.{standard}")
    _rejected(access, f"{header}.{payload[:10]}\n{payload[10:]}.{signature}")
    _rejected(access, f" {header}.{payload}.{signature}")


def test_standard_base64_alphabet_is_refused(access: AccessTokens) -> None:
    # Try until a token's signature holds '-' or '_' (almost always within a few tokens).
    for _ in range(200):
        header, payload, signature = _issue(access).split(".")
        if "-" in signature or "_" in signature:
            break
    else:
        pytest.fail("no signature with '-' or '_' in 200 tokens")
    _rejected(access, f"{header}.{payload}.{signature.replace('-', '+').replace('_', '/')}")


def test_an_oversized_token_is_refused_even_when_correctly_signed(
    access: AccessTokens, forge: Any, claims: dict[str, Any]
) -> None:
    def sized(padding: int) -> str:
        return str(forge(None, {**claims, "pad": "x" * padding}))

    small = sized(0)
    padding = (8192 - len(small)) * 3 // 4 - 8
    while len(sized(padding + 1)) <= 8192:
        padding += 1
    at_limit = sized(padding)
    assert len(at_limit) <= 8192 < len(sized(padding + 1))
    assert access.verify(at_limit).subject == "user-1"
    error = _rejected(access, sized(padding + 1))
    assert "too long" in error.message
    _rejected(access, sized(100_000))
    _rejected(access, "A" * 1_000_000)


@pytest.mark.parametrize("crit", [["exp"], [], ["b64"], "exp"])
def test_a_crit_header_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], crit: Any
) -> None:
    _rejected(access, forge({"crit": crit, "exp": 1, "b64": False}, claims))


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b"[{}]",
        b'"claims"',
        b"1",
        b"1.5",
        b"null",
        b"true",
        b"",
        b"{",
        b"{}}",
        b"\xff\xfe",
        b"\x00",
    ],
)
def test_a_payload_that_is_not_a_json_object_is_refused(
    access: AccessTokens, forge: Any, payload: bytes
) -> None:
    _rejected(access, forge(None, payload))


def test_a_list_wrapping_valid_claims_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any]
) -> None:
    _rejected(access, forge(None, [claims]))


@pytest.mark.parametrize("header", [b"[]", b'"EdDSA"', b"null", b"1", b"", b"{", b"\xff"])
def test_a_header_that_is_not_a_json_object_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], header: bytes
) -> None:
    _rejected(access, forge(None, claims, header=header))


# --- Keys ----------------------------------------------------------------------------------


def test_a_token_signed_by_an_unknown_key_is_refused(
    access: AccessTokens, forge: Any, new_key: Any, key: Any, claims: dict[str, Any]
) -> None:
    stranger = new_key()
    # Its own kid, which we do not publish.
    _rejected(access, forge(None, claims, signer=stranger))
    # Our kid, but the stranger's signature.
    token = forge({"kid": key.kid}, claims, signer=stranger)
    error = _rejected(access, token)
    assert "signature" in error.message


@pytest.mark.parametrize("kid", [None, "", "unknown", 1, ["k"], {"k": 1}, True])
def test_a_missing_or_malformed_kid_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], kid: Any
) -> None:
    _rejected(access, forge({"kid": kid}, claims))


def test_a_list_kid_naming_our_key_is_refused(
    access: AccessTokens, forge: Any, key: Any, claims: dict[str, Any]
) -> None:
    _rejected(access, forge({"kid": [key.kid]}, claims))


# --- Claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iss", ["https://evil.example", "https://id.example.com/", "http://id.example.com", "", None, 1]
)
def test_a_wrong_issuer_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], iss: Any
) -> None:
    payload = (
        {**claims, "iss": iss}
        if iss is not None
        else {k: v for k, v in claims.items() if k != "iss"}
    )
    _rejected(access, forge(None, payload))


@pytest.mark.parametrize(
    "aud", ["other", "", ["other"], [], ["authgate-admin"], "AUTHGATE", {"authgate": 1}, None]
)
def test_a_wrong_audience_is_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], aud: Any
) -> None:
    payload = (
        {**claims, "aud": aud}
        if aud is not None
        else {k: v for k, v in claims.items() if k != "aud"}
    )
    _rejected(access, forge(None, payload))


def test_an_audience_list_that_includes_ours_is_accepted(
    access: AccessTokens, forge: Any, claims: dict[str, Any]
) -> None:
    assert access.verify(forge(None, {**claims, "aud": ["other", AUDIENCE]})).subject == "user-1"


def test_expiry_with_30_seconds_of_clock_skew(access: AccessTokens, clock: Any) -> None:
    token = _issue(access)
    clock.advance(TTL + 29)
    access.verify(token)
    clock.advance(1)
    error = _rejected(access, token)
    assert "expired" in error.message
    clock.advance(86400 * 365)
    _rejected(access, token)


def test_iat_in_the_future_is_refused(access: AccessTokens, keyring: Keyring, clock: Any) -> None:
    future_clock = type(clock)(clock.now)
    minting = AccessTokens(
        issuer=ISSUER, audience=AUDIENCE, ttl=TTL, keyring=keyring, clock=future_clock
    )
    future_clock.advance(30)
    access.verify(_issue(minting))
    future_clock.advance(1)
    error = _rejected(access, _issue(minting))
    assert "future" in error.message


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": None},
        {"iat": None},
        {"exp": "9999999999"},
        {"iat": "0"},
        {"exp": 9999999999.5},
        {"exp": [9999999999]},
        {"sub": None},
        {"sub": 1},
        {"org": None},
        {"org": ["org-1"]},
        {"client_id": None},
        {"roles": None},
        {"roles": "ADMIN"},
        {"roles": ["ADMIN", 1]},
        {"roles": [["ADMIN"]]},
        {"scope": None},
        {"scope": ["openid"]},
        {"jti": None},
        {"jti": 7},
        {"sid": 5},
        {"sid": ["s"]},
    ],
)
def test_malformed_claims_are_refused(
    access: AccessTokens, forge: Any, claims: dict[str, Any], changes: dict[str, Any]
) -> None:
    payload = dict(claims)
    for name, value in changes.items():
        if value is None:
            del payload[name]
        else:
            payload[name] = value
    _rejected(access, forge(None, payload))


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "id_token", "at+jwt+x", "", "refresh"])
def test_only_access_tokens_are_accepted(
    access: AccessTokens, forge: Any, claims: dict[str, Any], typ: Any
) -> None:
    _rejected(access, forge({"typ": typ}, claims))


def test_an_id_token_of_ours_is_not_an_access_token(
    access: AccessTokens, forge: Any, claims: dict[str, Any]
) -> None:
    id_token = {
        **claims,
        "aud": AUDIENCE,
        "nonce": "n-0S6_WzA2Mj",
        "auth_time": claims["iat"],
        "at_hash": "77QmUPtjPfzWtF2AnpK9RQ",
        "email": "alice@example.com",
    }
    error = _rejected(access, forge({"typ": "JWT"}, id_token))
    assert "not an access token" in error.message


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_a_deeply_nested_json_header_is_refused(access: AccessTokens, depth: int) -> None:
    header = _b64url(b"[" * depth)
    _rejected(access, f"{header}.e30.AAAA")


def test_a_deeply_nested_json_payload_is_refused(access: AccessTokens, forge: Any) -> None:
    _rejected(access, forge(None, b"[" * 5_000))
    _rejected(access, forge(None, b'{"a":' * 5_000 + b"1" + b"}" * 5_000))


@pytest.mark.parametrize("intruder", ["é", "\u2028", "𝔸", "\udc80", "\x00", "\uff0e"])
def test_characters_outside_base64url_in_any_part_are_refused(
    access: AccessTokens, intruder: str
) -> None:
    header, payload, signature = _issue(access).split(".")
    _rejected(access, f"{header}.{payload[:5]}{intruder}{payload[6:]}.{signature}")
    _rejected(access, f"{header[:5]}{intruder}{header[6:]}.{payload}.{signature}")
    _rejected(access, f"{header}.{payload}.{signature[:5]}{intruder}{signature[6:]}")
    _rejected(access, f"{header}.{payload}.{signature}{intruder}")

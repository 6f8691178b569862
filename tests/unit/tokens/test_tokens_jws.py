"""JWS with two kinds of key: RS256 beside EdDSA, and every algorithm confusion refused.

Crafted tokens are built by hand with the ``cryptography`` package (and PyJWT), so they do not
depend on how authgate itself serializes or signs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from authgate.crypto import rsa
from authgate.errors import InvalidToken
from authgate.tokens import jws
from authgate.tokens.access import AccessTokens
from authgate.tokens.keyring import Keyring
from tests.unit.tokens.conftest import AUDIENCE, ISSUER, TTL, FakeClock, TestKey, b64url

BOTH = frozenset({"RS256", "EdDSA"})
ID_CLAIMS = {"iss": ISSUER, "sub": "user-1", "aud": "client-1", "nonce": "n-0S6_WzA2Mj"}


class RsaKey:
    """An RSA key as authgate generates it, plus its private key for forging."""

    def __init__(self) -> None:
        self.signer, self.jwk, raw = rsa.generate()
        self.kid = self.jwk["kid"]
        private_key = serialization.load_der_private_key(raw, password=None)
        assert isinstance(private_key, RSAPrivateKey)
        self.private_key = private_key

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture(scope="module")
def rsa_key() -> RsaKey:
    return RsaKey()


@pytest.fixture
def both(key: TestKey, rsa_key: RsaKey) -> Keyring:
    keyring = Keyring()
    keyring.load([key.signer, rsa_key.signer], [key.jwk, rsa_key.jwk])
    return keyring


def _part(value: Any) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def _token(header: dict[str, Any], payload: Any, sign: Any = None) -> str:
    signing_input = f"{_part(header)}.{_part(payload)}"
    signature = sign(signing_input.encode("ascii")) if sign else b""
    return f"{signing_input}.{b64url(signature)}"


def _header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return value


def test_rs256_round_trip(both: Keyring, rsa_key: RsaKey) -> None:
    token = jws.sign("JWT", ID_CLAIMS, both.signer_for("RS256"))
    assert _header(token) == {"typ": "JWT", "alg": "RS256", "kid": rsa_key.kid}
    header, payload = jws.verify(token, both.verifier, algorithms=BOTH)
    assert header["alg"] == "RS256"
    assert payload == ID_CLAIMS
    assert jws.verify(token, both.verifier, algorithms=frozenset({"RS256"}))[1] == ID_CLAIMS


def test_each_signer_writes_its_own_alg_and_kid(
    both: Keyring, key: TestKey, rsa_key: RsaKey
) -> None:
    # The encoded header is cached: one key's header never leaks into another's tokens.
    for _ in range(2):
        for algorithm, kid in (("EdDSA", key.kid), ("RS256", rsa_key.kid)):
            token = jws.sign("JWT", ID_CLAIMS, both.signer_for(algorithm))
            assert _header(token) == {"typ": "JWT", "alg": algorithm, "kid": kid}
            assert jws.verify(token, both.verifier, algorithms=BOTH)[1] == ID_CLAIMS
    assert both.signer() is both.signer_for("EdDSA")


def test_an_rs256_token_verifies_only_where_rs256_is_allowed(both: Keyring) -> None:
    token = jws.sign("JWT", ID_CLAIMS, both.signer_for("RS256"))
    for algorithms in (jws.ACCESS_ALGORITHMS, frozenset({"EdDSA"}), frozenset()):
        with pytest.raises(InvalidToken, match="algorithm is not accepted"):
            jws.verify(token, both.verifier, algorithms=algorithms)
    # The default is what access tokens accept.
    with pytest.raises(InvalidToken, match="algorithm is not accepted"):
        jws.verify(token, both.verifier)


def test_an_eddsa_token_verifies_only_where_eddsa_is_allowed(both: Keyring) -> None:
    token = jws.sign("JWT", ID_CLAIMS, both.signer())
    assert jws.verify(token, both.verifier)[1] == ID_CLAIMS
    with pytest.raises(InvalidToken, match="algorithm is not accepted"):
        jws.verify(token, both.verifier, algorithms=frozenset({"RS256"}))


def test_rs256_header_over_our_ed25519_key_is_refused(both: Keyring, key: TestKey) -> None:
    header = {"typ": "JWT", "alg": "RS256", "kid": key.kid}
    # Whatever the signature: Ed25519's own, or none at all.
    for sign in (key.private_key.sign, None):
        with pytest.raises(InvalidToken, match="not the one of its key"):
            jws.verify(_token(header, ID_CLAIMS, sign), both.verifier, algorithms=BOTH)


def test_eddsa_header_over_our_rsa_key_is_refused(both: Keyring, rsa_key: RsaKey) -> None:
    header = {"typ": "JWT", "alg": "EdDSA", "kid": rsa_key.kid}
    for sign in (rsa_key.sign, None):
        for algorithms in (BOTH, jws.ACCESS_ALGORITHMS):
            with pytest.raises(InvalidToken, match="not the one of its key"):
                jws.verify(_token(header, ID_CLAIMS, sign), both.verifier, algorithms=algorithms)


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_keyed_with_our_public_keys_is_refused(
    both: Keyring, key: TestKey, rsa_key: RsaKey, alg: str
) -> None:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    rsa_pem = rsa_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    secrets = [
        base64.urlsafe_b64decode(key.jwk["x"] + "="),
        key.jwk["x"].encode(),
        rsa_pem,
        json.dumps(rsa_key.jwk).encode(),
        rsa_key.jwk["n"].encode(),
    ]
    for kid in (key.kid, rsa_key.kid):
        for secret in secrets:
            token = _token(
                {"typ": "JWT", "alg": alg, "kid": kid},
                ID_CLAIMS,
                lambda data, s=secret: hmac.new(s, data, digest).digest(),
            )
            with pytest.raises(InvalidToken, match="algorithm is not accepted"):
                jws.verify(token, both.verifier, algorithms=BOTH)
            # Even a caller that wrongly allowed HMAC is safe: no key of ours is an HMAC key.
            with pytest.raises(InvalidToken, match="not the one of its key"):
                jws.verify(token, both.verifier, algorithms=BOTH | {alg})


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "", "rs256", "RS256 ", "PS256", "ES256"])
def test_unsupported_algorithms_are_refused(both: Keyring, rsa_key: RsaKey, alg: str) -> None:
    for sign in (None, rsa_key.sign):
        token = _token({"typ": "JWT", "alg": alg, "kid": rsa_key.kid}, ID_CLAIMS, sign)
        with pytest.raises(InvalidToken, match="algorithm is not accepted"):
            jws.verify(token, both.verifier, algorithms=BOTH)
        with pytest.raises(InvalidToken):
            jws.verify(token, both.verifier, algorithms=BOTH | {alg})


@pytest.mark.parametrize("alg", [None, 1, ["RS256"], {"RS256": 1}, ["EdDSA", "RS256"], True])
def test_an_alg_that_is_not_a_string_is_refused_cleanly(
    both: Keyring, rsa_key: RsaKey, alg: Any
) -> None:
    header = {"typ": "JWT", "kid": rsa_key.kid, **({} if alg is None else {"alg": alg})}
    with pytest.raises(InvalidToken, match="algorithm is not accepted"):
        jws.verify(_token(header, ID_CLAIMS, rsa_key.sign), both.verifier, algorithms=BOTH)


def test_rs256_signature_by_a_stranger_under_our_kid_is_refused(
    both: Keyring, rsa_key: RsaKey
) -> None:
    stranger = RsaKey()
    header = {"typ": "JWT", "alg": "RS256", "kid": rsa_key.kid}
    with pytest.raises(InvalidToken, match="signature is invalid"):
        jws.verify(_token(header, ID_CLAIMS, stranger.sign), both.verifier, algorithms=BOTH)
    genuine = _token(header, ID_CLAIMS, rsa_key.sign)
    assert jws.verify(genuine, both.verifier, algorithms=BOTH)[1] == ID_CLAIMS
    # One changed claim after signing breaks the signature.
    head, _, signature = genuine.split(".")
    tampered = f"{head}.{_part({**ID_CLAIMS, 'sub': 'user-2'})}.{signature}"
    with pytest.raises(InvalidToken, match="signature is invalid"):
        jws.verify(tampered, both.verifier, algorithms=BOTH)


def test_access_tokens_refuse_an_rs256_token_signed_by_our_own_rsa_key(
    both: Keyring, rsa_key: RsaKey, clock: FakeClock, claims: dict[str, Any]
) -> None:
    access = AccessTokens(issuer=ISSUER, audience=AUDIENCE, ttl=TTL, keyring=both, clock=clock)
    # Valid in every respect but the algorithm: access tokens are EdDSA only.
    token = _token({"typ": "at+jwt", "alg": "RS256", "kid": rsa_key.kid}, claims, rsa_key.sign)
    assert jws.verify(token, both.verifier, algorithms=BOTH)[1] == claims
    with pytest.raises(InvalidToken, match="algorithm is not accepted"):
        access.verify(token)
    issued = access.issue(
        subject="user-1",
        org_id="org-1",
        roles=("MEMBER",),
        client_id="authgate-device",
        scope="openid",
        session_id="session-1",
    )
    assert _header(issued)["alg"] == "EdDSA"
    assert access.verify(issued).subject == "user-1"


# --- Interoperability with an independent implementation (PyJWT) --------------------------


def test_pyjwt_verifies_our_rs256_tokens_with_our_jwks(both: Keyring, rsa_key: RsaKey) -> None:
    token = jws.sign("JWT", ID_CLAIMS, both.signer_for("RS256"))
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == ("RS256", rsa_key.kid)
    published = jwt.PyJWKSet.from_dict(both.jwks())
    assert {k.key_id for k in published.keys} == {rsa_key.kid, both.signer().kid}
    signing_key = published[header["kid"]]
    assert signing_key.algorithm_name == "RS256"
    decoded = jwt.decode(
        token, signing_key.key, algorithms=["RS256"], audience="client-1", issuer=ISSUER
    )
    assert decoded == ID_CLAIMS
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBA"),
            signing_key.key,
            algorithms=["RS256"],
            audience="client-1",
        )


def test_we_verify_an_rs256_token_pyjwt_signed_with_our_key(both: Keyring, rsa_key: RsaKey) -> None:
    token = jwt.encode(
        ID_CLAIMS, rsa_key.private_key, algorithm="RS256", headers={"kid": rsa_key.kid}
    )
    header, payload = jws.verify(token, both.verifier, algorithms=BOTH)
    assert (header["alg"], payload) == ("RS256", ID_CLAIMS)
    # PyJWT's PS256 with the same key is another algorithm: refused.
    pss = jwt.encode(
        ID_CLAIMS, rsa_key.private_key, algorithm="PS256", headers={"kid": rsa_key.kid}
    )
    with pytest.raises(InvalidToken, match="algorithm is not accepted"):
        jws.verify(pss, both.verifier, algorithms=BOTH)

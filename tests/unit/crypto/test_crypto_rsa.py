"""RSA keys for RS256: RFC 7515 and RFC 7638 known answers, JWKs, sealed-form bytes, refusals."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import (
    RSAPrivateKey,
    RSAPrivateNumbers,
    RSAPublicNumbers,
    generate_private_key,
    rsa_crt_dmp1,
    rsa_crt_dmq1,
    rsa_crt_iqmp,
)

from authgate.crypto import ed25519, rsa
from authgate.crypto.signing import Signer, Verifier, b64url_decode, b64url_encode

# RFC 7638 §3.1: an RSA key and its thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

# RFC 7515 Appendix A.2: an RS256 JWS and the 2048-bit key that made it.
A2_N = (
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4"
    "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5re"
    "xMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxX"
    "FvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
)
A2_D = (
    "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXO"
    "oAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51"
    "gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3c"
    "cPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ"
)
A2_P = (
    "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5P"
    "JdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc"
)
A2_Q = (
    "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZ"
    "D_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc"
)
A2_SIGNING_INPUT = (
    "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
    "bS9pc19yb290Ijp0cnVlfQ"
).encode("ascii")
A2_SIGNATURE = (
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5"
    "jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb"
    "1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QO"
    "YEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
)


def _int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def _der(private_key: Any) -> bytes:
    return bytes(
        private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _a2_private_key() -> RSAPrivateKey:
    n, e, d, p, q = (_int(v) for v in (A2_N, "AQAB", A2_D, A2_P, A2_Q))
    numbers = RSAPrivateNumbers(
        p, q, d, rsa_crt_dmp1(d, p), rsa_crt_dmq1(d, q), rsa_crt_iqmp(p, q), RSAPublicNumbers(e, n)
    )
    return numbers.private_key()


@cache
def _small_key() -> RSAPrivateKey:
    return generate_private_key(public_exponent=65537, key_size=1024)


def _sha256_b64url(canonical: str) -> str:
    """SHA-256 of the canonical JSON, computed here without authgate's helper."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(canonical.encode("ascii"))
    return b64url_encode(digest.finalize())


def test_rfc7638_thumbprint_known_answer() -> None:
    assert rsa.thumbprint(RFC7638_N, "AQAB") == RFC7638_THUMBPRINT


def test_rfc7515_a2_known_answer_through_the_sealed_form() -> None:
    # PKCS#1 v1.5 is deterministic: our signer must produce the RFC's exact bytes.
    signer = rsa.signer_from_raw("a2", _der(_a2_private_key()))
    assert signer.algorithm == "RS256"
    signature = signer.sign(A2_SIGNING_INPUT)
    assert b64url_encode(signature) == A2_SIGNATURE
    assert rsa.public_jwk(signer.private_key.public_key())["n"] == A2_N
    verifier = rsa.verifier_from_jwk({"kty": "RSA", "n": A2_N, "e": "AQAB", "kid": "a2"})
    assert verifier.verify(signature, A2_SIGNING_INPUT) is True
    assert verifier.verify(signature, A2_SIGNING_INPUT + b"x") is False
    assert verifier.verify(signature[:-1], A2_SIGNING_INPUT) is False
    assert verifier.verify(signature + b"\x00", A2_SIGNING_INPUT) is False
    assert verifier.verify(b"", A2_SIGNING_INPUT) is False


def test_generated_key_has_a_public_jwk_only_and_a_thumbprint_kid() -> None:
    signer, jwk, raw = rsa.generate()
    assert set(jwk) == {"kty", "n", "e", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["e"], jwk["use"], jwk["alg"]) == ("RSA", "AQAB", "sig", "RS256")
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"))
    assert jwk["kid"] == signer.kid == _sha256_b64url(canonical)
    n = _int(jwk["n"])
    assert n.bit_length() == 2048
    assert b64url_decode(jwk["n"])[0] != 0  # minimal octets, no leading zero
    # The raw bytes are the PKCS#8 DER of the private half of the published key.
    private_key = serialization.load_der_private_key(raw, password=None)
    assert isinstance(private_key, RSAPrivateKey)
    assert private_key.public_key().public_numbers().n == n
    assert b64url_encode(raw) not in json.dumps(jwk)
    assert str(private_key.private_numbers().d) not in json.dumps(jwk)


def test_signer_and_verifier_round_trip_and_match_an_independent_implementation() -> None:
    signer, jwk, raw = rsa.generate()
    verifier = rsa.verifier_from_jwk(jwk)
    assert (verifier.kid, verifier.algorithm) == (signer.kid, "RS256")
    signature = signer.sign(b"data")
    assert len(signature) == 256
    assert verifier.verify(signature, b"data") is True
    assert verifier.verify(signature, b"Data") is False
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert verifier.verify(flipped, b"data") is False
    rebuilt = rsa.signer_from_raw(signer.kid, raw)
    assert verifier.verify(rebuilt.sign(b"other"), b"other") is True
    other, _, _ = rsa.generate()
    assert verifier.verify(other.sign(b"data"), b"data") is False
    # OpenSSL, called directly, agrees in both directions.
    public = RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    public.verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    private_key = serialization.load_der_private_key(raw, password=None)
    assert isinstance(private_key, RSAPrivateKey)
    theirs = private_key.sign(b"theirs", padding.PKCS1v15(), hashes.SHA256())
    assert verifier.verify(theirs, b"theirs") is True
    # A PSS signature by the same key is another algorithm (PS256), not RS256.
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    assert verifier.verify(private_key.sign(b"data", pss, hashes.SHA256()), b"data") is False


def test_both_kinds_of_key_are_signers_and_verifiers_of_their_own_algorithm() -> None:
    rsa_signer, rsa_jwk, _ = rsa.generate()
    ed_signer, ed_jwk, _ = ed25519.generate()
    signers: list[Signer] = [rsa_signer, ed_signer]
    verifiers: list[Verifier] = [rsa.verifier_from_jwk(rsa_jwk), ed25519.verifier_from_jwk(ed_jwk)]
    assert [s.algorithm for s in signers] == [v.algorithm for v in verifiers] == ["RS256", "EdDSA"]
    for signer, verifier, stranger in zip(signers, verifiers, reversed(verifiers), strict=True):
        signature = signer.sign(b"data")
        assert verifier.verify(signature, b"data") is True
        # A signature of one kind never verifies under a key of the other.
        assert stranger.verify(signature, b"data") is False


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not a key",
        bytes(32),
        pytest.param(_der(Ed25519PrivateKey.generate()), id="ed25519-pkcs8"),
    ],
)
def test_signer_from_raw_accepts_rsa_pkcs8_only(raw: bytes) -> None:
    with pytest.raises(ValueError):
        rsa.signer_from_raw("k", raw)


def test_signer_from_raw_refuses_a_key_under_2048_bits() -> None:
    with pytest.raises(ValueError, match="2048"):
        rsa.signer_from_raw("k", _der(_small_key()))


def _jwk(**changes: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = {"kty": "RSA", "n": A2_N, "e": "AQAB", "kid": "k", "alg": "RS256"}
    for name, value in changes.items():
        if value is None:
            jwk.pop(name)
        else:
            jwk[name] = value
    return jwk


def _small_n() -> str:
    return b64url_encode(_small_key().public_key().public_numbers().n.to_bytes(128, "big"))


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param(_jwk(kty="OKP"), id="okp"),
        pytest.param(_jwk(kty="oct"), id="oct"),
        pytest.param(_jwk(kty=None), id="no-kty"),
        pytest.param(_jwk(alg="EdDSA"), id="alg-eddsa"),
        pytest.param(_jwk(alg="PS256"), id="alg-ps256"),
        pytest.param(_jwk(alg="HS256"), id="alg-hs256"),
        pytest.param(_jwk(d=A2_D), id="private-d"),
        pytest.param(_jwk(p=A2_P), id="private-p"),
        pytest.param(_jwk(n=None), id="no-n"),
        pytest.param(_jwk(e=None), id="no-e"),
        pytest.param(_jwk(n=12345), id="n-number"),
        pytest.param(_jwk(n=""), id="n-empty"),
        pytest.param(_jwk(n="AA" + A2_N), id="n-leading-zero"),
        pytest.param(_jwk(n=A2_N + "="), id="n-padded"),
        pytest.param(_jwk(n=A2_N[:-1] + "+"), id="n-standard-alphabet"),
        pytest.param(_jwk(e="AAEAAQ"), id="e-leading-zero"),
        pytest.param(_jwk(e="AQAA"), id="e-even"),
        pytest.param(_jwk(e="AQ"), id="e-one"),
        pytest.param(_jwk(e=A2_N), id="e-equals-n"),
        pytest.param(_jwk(n=A2_N[:-86]), id="n-1536-bits"),
    ],
)
def test_verifier_from_jwk_accepts_public_rs256_keys_of_2048_bits_or_more(
    jwk: dict[str, Any],
) -> None:
    with pytest.raises(ValueError):
        rsa.verifier_from_jwk(jwk)


def test_verifier_from_jwk_refuses_a_real_1024_bit_key() -> None:
    with pytest.raises(ValueError, match="2048"):
        rsa.verifier_from_jwk(_jwk(n=_small_n()))


def test_verifier_from_jwk_accepts_a_jwk_without_optional_members() -> None:
    verifier = rsa.verifier_from_jwk(_jwk(alg=None))
    assert verifier.algorithm == "RS256"
    assert verifier.verify(b64url_decode(A2_SIGNATURE), A2_SIGNING_INPUT) is True

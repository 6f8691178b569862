"""Ed25519 JWKs (RFC 8037), RFC 7638 thumbprints and strict base64url."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from authgate.crypto import ed25519
from authgate.crypto.signing import b64url_decode, b64url_encode

# RFC 8037 Appendix A.1-A.4.
RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_SIGNING_INPUT = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
RFC8037_SIGNATURE = (
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


def test_rfc8037_known_answers() -> None:
    assert ed25519.thumbprint(RFC8037_X) == RFC8037_THUMBPRINT
    signer = ed25519.signer_from_raw("k", b64url_decode(RFC8037_D))
    signature = signer.sign(RFC8037_SIGNING_INPUT.encode("ascii"))
    assert b64url_encode(signature) == RFC8037_SIGNATURE
    verifier = ed25519.verifier_from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": RFC8037_THUMBPRINT}
    )
    assert verifier.kid == RFC8037_THUMBPRINT
    assert signer.algorithm == verifier.algorithm == "EdDSA"
    assert verifier.verify(signature, RFC8037_SIGNING_INPUT.encode("ascii")) is True


def test_generated_key_has_a_public_jwk_only_and_a_thumbprint_kid() -> None:
    signer, jwk, raw = ed25519.generate()
    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (jwk["kty"], jwk["crv"], jwk["use"], jwk["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}, separators=(",", ":"), sort_keys=True
    )
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    assert jwk["kid"] == signer.kid == expected.rstrip(b"=").decode()
    assert len(raw) == 32
    assert b64url_encode(raw) not in json.dumps(jwk)
    # The published x is the public half of the returned private key.
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key()
    assert jwk["x"] == b64url_encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def test_signer_and_verifier_round_trip() -> None:
    signer, jwk, raw = ed25519.generate()
    verifier = ed25519.verifier_from_jwk(jwk)
    assert verifier.kid == signer.kid
    signature = signer.sign(b"data")
    assert verifier.verify(signature, b"data") is True
    assert verifier.verify(signature, b"Data") is False
    assert verifier.verify(signature[:-1], b"data") is False
    assert verifier.verify(b"", b"data") is False
    rebuilt = ed25519.signer_from_raw(signer.kid, raw)
    assert verifier.verify(rebuilt.sign(b"other"), b"other") is True
    other, _, _ = ed25519.generate()
    assert verifier.verify(other.sign(b"data"), b"data") is False


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": RFC8037_X, "kid": "k"},
        {"kty": "OKP", "crv": "X25519", "x": RFC8037_X, "kid": "k"},
        {"kty": "oct", "k": RFC8037_X, "kid": "k"},
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X[:-2], "kid": "k"},
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "AA", "kid": "k"},
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "k", "alg": "RS256"},
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "k", "alg": "HS256"},
    ],
)
def test_verifier_from_jwk_accepts_ed25519_only(jwk: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ed25519.verifier_from_jwk(jwk)


@pytest.mark.parametrize("raw", [b"", b"\x00", b"ab", b"abc", bytes(range(256))])
def test_b64url_round_trip(raw: bytes) -> None:
    text = b64url_encode(raw)
    assert not set(text) & set("=+/")
    assert b64url_decode(text) == raw


@pytest.mark.parametrize(
    "text",
    [
        "YQ==",  # padding
        "YQ=",
        "A",  # length % 4 == 1
        "YR",  # non-canonical: trailing bits set ("YQ" is canonical for b"a")
        "-_+/",  # standard alphabet mixed in
        "+w",  # standard alphabet ("-w" is canonical)
        "YQ\n",
        " YQ",
        "Y Q",
        "Y!Q",
        "YQé",
    ],
)
def test_b64url_decode_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)

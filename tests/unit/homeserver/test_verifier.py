"""SignedFetchVerifier on requests signed as the gateway signs them, and RFC 5849 vectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from authgate.homeserver import (
    InvalidSignature,
    MissingIdentity,
    SignedFetchVerifier,
    UnsupportedSignatureMethod,
    rsa_public_key,
    shared_secret,
)
from authgate.signedfetch.signature import RsaSigningKey, SharedSecret, SignatureMethod
from tests.unit.homeserver.conftest import (
    APP_ID,
    APP_KEY,
    APP_SECRET,
    APP_URL,
    INSTANCE,
    NOW,
    OWNER,
    USER,
    fixed_clock,
    gateway_sign,
    gateway_url,
)


def verifier(**kwargs: object) -> SignedFetchVerifier:
    kwargs.setdefault("clock", fixed_clock())
    return SignedFetchVerifier({APP_KEY: APP_SECRET}, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("method", [SignatureMethod.HMAC_SHA1, SignatureMethod.HMAC_SHA256])
def test_a_gateway_signed_get_gives_the_identity(method: SignatureMethod) -> None:
    url, headers = gateway_sign(url=gateway_url(q="a b"), signature_method=method, nonce="n-1")
    fetch = verifier().verify("GET", url, headers)
    assert fetch.owner_id == OWNER
    assert (fetch.user_id, fetch.instance_id) == (USER, INSTANCE)
    assert (fetch.viewer_id, fetch.viewer_user_id) == (OWNER, USER)
    assert (fetch.app_id, fetch.app_url) == (APP_ID, APP_URL)
    assert fetch.consumer_key == APP_KEY
    assert fetch.signature_method == method.value
    assert (fetch.nonce, fetch.timestamp) == ("n-1", int(NOW.timestamp()))
    assert fetch.get("q") == "a b"
    assert fetch.get("missing") is None
    assert all(not name.startswith("oauth_") for name, _ in fetch.parameters)


def test_a_json_post_with_its_body_hash_verifies() -> None:
    body = '{"note": "Grüße"}'.encode()
    url, headers = gateway_sign("POST", body=body, content_type="application/json")
    assert "oauth_body_hash" in headers["Authorization"]
    assert verifier().verify("POST", url, headers, body).user_id == USER


def test_form_parameters_are_signed_and_handed_over() -> None:
    body = b"title=Q1+plan&tag=a&tag=b"
    form = "application/x-www-form-urlencoded"
    url, headers = gateway_sign("POST", body=body, content_type=form)
    fetch = verifier().verify("POST", url, headers, body)
    assert [v for k, v in fetch.parameters if k == "tag"] == ["a", "b"]
    assert fetch.get("title") == "Q1 plan"


def test_rsa_sha1_with_a_public_key_pem(
    rsa_private_key: RSAPrivateKey, rsa_public_pem: str
) -> None:
    url, headers = gateway_sign(
        credential=RsaSigningKey(rsa_private_key), signature_method=SignatureMethod.RSA_SHA1
    )
    checker = SignedFetchVerifier({APP_KEY: rsa_public_key(rsa_public_pem)}, clock=fixed_clock())
    assert checker.verify("GET", url, headers).signature_method == "RSA-SHA1"


def test_rsa_sha1_with_a_certificate(rsa_private_key: RSAPrivateKey) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "container.example")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_private_key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
        .sign(rsa_private_key, hashes.SHA256())
    )
    pem = certificate.public_bytes(Encoding.PEM)
    url, headers = gateway_sign(
        credential=RsaSigningKey(rsa_private_key), signature_method=SignatureMethod.RSA_SHA1
    )
    checker = SignedFetchVerifier({APP_KEY: rsa_public_key(pem)}, clock=fixed_clock())
    assert checker.verify("GET", url, headers).instance_id == INSTANCE


def test_a_non_rsa_pem_is_refused() -> None:
    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="RSA public key"):
        rsa_public_key(pem)


def test_accepted_signature_methods_can_be_narrowed() -> None:
    url, headers = gateway_sign(signature_method=SignatureMethod.HMAC_SHA256)
    only_sha1 = verifier(signature_methods=["HMAC-SHA1"])
    with pytest.raises(UnsupportedSignatureMethod, match="does not accept HMAC-SHA256") as caught:
        only_sha1.verify("GET", url, headers)
    assert (caught.value.code, caught.value.status) == ("unsupported_signature_method", 400)


def test_consumers_may_be_a_lookup_function() -> None:
    asked: list[str] = []

    def lookup(key: str) -> SharedSecret | None:
        asked.append(key)
        return shared_secret(APP_SECRET) if key == APP_KEY else None

    url, headers = gateway_sign()
    assert SignedFetchVerifier(lookup, clock=fixed_clock()).verify("GET", url, headers)
    assert asked == [APP_KEY]


def test_configuration_mistakes_are_caught_at_construction() -> None:
    with pytest.raises(ValueError, match="at least one consumer"):
        SignedFetchVerifier({})
    with pytest.raises(ValueError, match="must not be empty"):
        SignedFetchVerifier({APP_KEY: ""})
    with pytest.raises(ValueError, match="window"):
        SignedFetchVerifier({APP_KEY: APP_SECRET}, window=0)
    with pytest.raises(ValueError, match="PLAINTEXT"):
        SignedFetchVerifier({APP_KEY: APP_SECRET}, signature_methods=["PLAINTEXT"])


def test_the_default_clock_is_the_real_one() -> None:
    url, headers = gateway_sign(now=datetime.now(UTC))
    assert SignedFetchVerifier({APP_KEY: APP_SECRET}).verify("GET", url, headers)
    url, headers = gateway_sign(now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(InvalidSignature, match="outside the 300 s window"):
        SignedFetchVerifier({APP_KEY: APP_SECRET}).verify("GET", url, headers)


# RFC 5849 §1.2: the printing service's requests, with the signatures printed in the RFC.
RFC_CONSUMER_KEY = "dpf43f3p2l4k3l03"
RFC_CONSUMER_SECRET = "kd94hf93k423kf44"


def test_rfc5849_temporary_credentials_request_verifies_through_the_kit() -> None:
    headers = {
        "Authorization": 'OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", '
        'oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131200", '
        'oauth_nonce="wIjqoS", oauth_callback="http%3A%2F%2Fprinter.example.com%2Fready", '
        'oauth_signature="74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D"'
    }
    clock = fixed_clock(datetime.fromtimestamp(137131200, UTC))
    good = SignedFetchVerifier({RFC_CONSUMER_KEY: RFC_CONSUMER_SECRET}, clock=clock)
    # The signature holds; what is missing is the identity a gateway adds.
    with pytest.raises(MissingIdentity):
        good.verify("POST", "https://photos.example.net/initiate", headers)
    wrong = SignedFetchVerifier({RFC_CONSUMER_KEY: "kd94hf93k423kf45"}, clock=clock)
    with pytest.raises(InvalidSignature):
        wrong.verify("POST", "https://photos.example.net/initiate", headers)


def test_rfc5849_protected_resource_request_verifies_through_the_kit() -> None:
    headers = {
        "Authorization": 'OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", '
        'oauth_token="nnch734d00sl2jdk", oauth_signature_method="HMAC-SHA1", '
        'oauth_timestamp="137131202", oauth_nonce="chapoH", '
        'oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"'
    }
    url = "http://photos.example.net/photos?file=vacation.jpg&size=original"
    clock = fixed_clock(datetime.fromtimestamp(137131202, UTC))
    with_token = SharedSecret(RFC_CONSUMER_SECRET, "pfkkdhi9sl3r4s00")
    with pytest.raises(MissingIdentity):
        SignedFetchVerifier({RFC_CONSUMER_KEY: with_token}, clock=clock).verify("GET", url, headers)
    no_token = SignedFetchVerifier({RFC_CONSUMER_KEY: RFC_CONSUMER_SECRET}, clock=clock)
    with pytest.raises(InvalidSignature):
        no_token.verify("GET", url, headers)

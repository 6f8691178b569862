"""verify_request against requests signed by sign_request: tampering, windows, body hashes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from authgate.signedfetch.body_hash import body_hash
from authgate.signedfetch.errors import InvalidOAuthRequest, InvalidSignature
from authgate.signedfetch.parameters import Placement
from authgate.signedfetch.signature import (
    ConsumerCredential,
    RsaSigningKey,
    RsaVerificationKey,
    SharedSecret,
    SignatureMethod,
)
from authgate.signedfetch.signing import sign_request
from authgate.signedfetch.verify import ConsumerLookup, verify_request
from tests.unit.signedfetch.conftest import CONSUMER_KEY, CONSUMER_SECRET, NOW

URL = "https://home.example.org:8443/api/v1/items?opensocial_owner_id=u1%40inst&q=a+b"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def consumers(credential: ConsumerCredential) -> ConsumerLookup:
    return lambda key: credential if key == CONSUMER_KEY else None


HMAC = consumers(SharedSecret(CONSUMER_SECRET))


def signed(
    method: str = "POST",
    url: str = URL,
    body: bytes = b'{"a": 1}',
    content_type: str | None = JSON,
    signature_method: SignatureMethod = SignatureMethod.HMAC_SHA1,
) -> dict[str, str]:
    result = sign_request(
        method,
        url,
        body=body,
        consumer_key=CONSUMER_KEY,
        consumer_secret=SharedSecret(CONSUMER_SECRET),
        signature_method=signature_method,
        content_type=content_type,
        now=NOW,
    )
    headers = {"Authorization": result.authorization}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


@pytest.mark.parametrize("method", [SignatureMethod.HMAC_SHA1, SignatureMethod.HMAC_SHA256])
def test_a_signed_request_verifies(method: SignatureMethod) -> None:
    headers = signed(signature_method=method)
    verified = verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)
    assert verified.consumer_key == CONSUMER_KEY
    assert verified.signature_method is method
    assert verified.timestamp == int(NOW.timestamp())
    assert re.fullmatch(r"[0-9a-f]{24}", verified.nonce)
    assert verified.placement is Placement.HEADER
    assert verified.body_hash == body_hash(b'{"a": 1}', method)
    assert ("opensocial_owner_id", "u1@inst") in verified.parameters
    assert ("q", "a b") in verified.parameters


def test_rsa_sha1_request_verifies(rsa_private_key: RSAPrivateKey) -> None:
    result = sign_request(
        "GET", URL, consumer_key=CONSUMER_KEY,
        consumer_secret=RsaSigningKey(rsa_private_key),
        signature_method=SignatureMethod.RSA_SHA1, now=NOW,
    )  # fmt: skip
    lookup = consumers(RsaVerificationKey(rsa_private_key.public_key()))
    headers = {"authorization": result.authorization}
    verified = verify_request("GET", URL, headers, b"", find_consumer=lookup, now=NOW)
    assert verified.signature_method is SignatureMethod.RSA_SHA1
    assert verified.body_hash is None
    with pytest.raises(InvalidSignature):
        verify_request("GET", URL + "&x=1", headers, b"", find_consumer=lookup, now=NOW)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("PUT", URL, b'{"a": 1}'),
        ("POST", URL.replace("home.example.org", "evil.example.org"), b'{"a": 1}'),
        ("POST", URL.replace(":8443", ":8444"), b'{"a": 1}'),
        ("POST", URL.replace(":8443", ""), b'{"a": 1}'),
        ("POST", URL.replace("https", "http"), b'{"a": 1}'),
        ("POST", URL.replace("/items", "/Items"), b'{"a": 1}'),
        ("POST", URL.replace("/items", "/items/"), b'{"a": 1}'),
        ("POST", URL.replace("u1%40inst", "u2%40inst"), b'{"a": 1}'),
        ("POST", URL.replace("q=a+b", "q=a+c"), b'{"a": 1}'),
        ("POST", URL.replace("q=a+b", "q=a%2Bb"), b'{"a": 1}'),
        ("POST", URL + "&q=a+b", b'{"a": 1}'),
        ("POST", URL.replace("&q=a+b", ""), b'{"a": 1}'),
        ("POST", URL, b'{"a": 2}'),
        ("POST", URL, b""),
    ],
)
def test_tampering_with_any_part_fails(method: str, url: str, body: bytes) -> None:
    headers = signed()
    with pytest.raises(InvalidSignature) as caught:
        verify_request(method, url, headers, body, find_consumer=HMAC, now=NOW)
    assert caught.value.status == 401


def _replace_parameter(header: str, name: str, value: str) -> str:
    return re.sub(rf'{name}="[^"]*"', f'{name}="{value}"', header)


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("oauth_consumer_key", "container-8", InvalidSignature),
        ("oauth_nonce", "0123456789abcdef01234567", InvalidSignature),
        ("oauth_timestamp", str(int(NOW.timestamp()) + 1), InvalidSignature),
        ("oauth_signature_method", "HMAC-SHA256", InvalidSignature),
        ("oauth_version", "1.0a", InvalidOAuthRequest),
        ("oauth_body_hash", body_hash(b"other", SignatureMethod.HMAC_SHA1), InvalidSignature),
        ("oauth_signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA%3D", InvalidSignature),
    ],
)
def test_tampering_with_each_protocol_parameter_fails(
    name: str, value: str, error: type[Exception]
) -> None:
    headers = signed()
    headers["Authorization"] = _replace_parameter(headers["Authorization"], name, value)
    with pytest.raises(error):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_an_added_signed_parameter_fails() -> None:
    headers = signed()
    headers["Authorization"] += ', oauth_token="t"'
    with pytest.raises(InvalidSignature):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_form_body_parameters_are_signed() -> None:
    body = b"name=J%C3%BCrgen+M&tag=a&tag=b&reserved=%21%2A%27%28%29"
    headers = signed(body=body, content_type=FORM)
    assert "oauth_body_hash" not in headers["Authorization"]
    verified = verify_request("POST", URL, headers, body, find_consumer=HMAC, now=NOW)
    assert ("name", "Jürgen M") in verified.parameters
    assert ("reserved", "!*'()") in verified.parameters
    for tampered in (b"name=J%C3%BCrgen+N&tag=a&tag=b&reserved=%21%2A%27%28%29",
                     b"name=J%C3%BCrgen+M&tag=a&reserved=%21%2A%27%28%29"):  # fmt: skip
        with pytest.raises(InvalidSignature):
            verify_request("POST", URL, headers, tampered, find_consumer=HMAC, now=NOW)


@pytest.mark.parametrize("skew", [-300, -299, 0, 299, 300])
def test_timestamps_inside_the_window_pass(skew: int) -> None:
    headers = signed(method="GET", body=b"", content_type=None)
    verified = verify_request(
        "GET", URL, headers, b"", find_consumer=HMAC, now=NOW + timedelta(seconds=skew)
    )
    assert verified.timestamp == int(NOW.timestamp())


@pytest.mark.parametrize("skew", [-301, 301, -86400, 10**6])
def test_timestamps_outside_the_window_fail(skew: int) -> None:
    headers = signed(method="GET", body=b"", content_type=None)
    with pytest.raises(InvalidSignature, match="window"):
        verify_request(
            "GET", URL, headers, b"", find_consumer=HMAC, now=NOW + timedelta(seconds=skew)
        )


def test_the_window_is_configurable() -> None:
    headers = signed(method="GET", body=b"", content_type=None)
    later = NOW + timedelta(seconds=31)
    with pytest.raises(InvalidSignature):
        verify_request("GET", URL, headers, b"", find_consumer=HMAC, now=later, window=30)
    verified = verify_request("GET", URL, headers, b"", find_consumer=HMAC, now=later, window=31)
    assert verified.consumer_key == CONSUMER_KEY


@pytest.mark.parametrize("value", ["-5", "1e9", "", "12.5", "٣٣", "9" * 13])
def test_malformed_timestamps_are_refused(value: str) -> None:
    headers = signed()
    headers["Authorization"] = _replace_parameter(
        headers["Authorization"], "oauth_timestamp", value
    )
    with pytest.raises(InvalidOAuthRequest, match="oauth_timestamp"):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_non_form_body_without_body_hash_is_refused() -> None:
    headers = signed()
    headers["Authorization"] = re.sub(r', oauth_body_hash="[^"]*"', "", headers["Authorization"])
    with pytest.raises(InvalidOAuthRequest, match="must carry oauth_body_hash"):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_body_hash_with_a_form_body_is_refused() -> None:
    headers = signed(body=b"a=1", content_type=FORM)
    headers["Authorization"] += ', oauth_body_hash="2jmj7l5rSw0yVb%2FvlWAYkK%2FYBwk%3D"'
    with pytest.raises(InvalidOAuthRequest, match="must not be sent with a form-encoded body"):
        verify_request("POST", URL, headers, b"a=1", find_consumer=HMAC, now=NOW)


def test_hmac_sha256_body_hash_is_sha256() -> None:
    headers = signed(signature_method=SignatureMethod.HMAC_SHA256)
    sha1 = body_hash(b'{"a": 1}', SignatureMethod.HMAC_SHA1)
    assert body_hash(b'{"a": 1}', SignatureMethod.HMAC_SHA256) != sha1
    headers["Authorization"] = _replace_parameter(
        headers["Authorization"], "oauth_body_hash", sha1.replace("+", "%2B").replace("/", "%2F")
    )
    with pytest.raises(InvalidSignature, match="SHA-256"):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_get_without_body_needs_no_body_hash() -> None:
    headers = signed(method="GET", body=b"", content_type=None)
    assert "oauth_body_hash" not in headers["Authorization"]
    verified = verify_request("GET", URL, headers, b"", find_consumer=HMAC, now=NOW)
    assert verified.body_hash is None


def test_plaintext_is_refused() -> None:
    header = (
        f'OAuth oauth_consumer_key="{CONSUMER_KEY}", oauth_signature_method="PLAINTEXT", '
        f'oauth_timestamp="{int(NOW.timestamp())}", oauth_nonce="n", '
        'oauth_signature="s3cr3t%26"'
    )
    with pytest.raises(InvalidOAuthRequest, match="PLAINTEXT is refused"):
        verify_request("GET", URL, {"Authorization": header}, b"", find_consumer=HMAC, now=NOW)


@pytest.mark.parametrize(
    "missing",
    ["oauth_consumer_key", "oauth_signature_method", "oauth_signature", "oauth_timestamp",
     "oauth_nonce"],
)  # fmt: skip
def test_each_required_parameter_is_named_when_missing(missing: str) -> None:
    headers = signed()
    headers["Authorization"] = re.sub(rf'{missing}="[^"]*",? ?', "", headers["Authorization"])
    with pytest.raises(InvalidOAuthRequest, match=missing):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_unknown_consumer_fails_like_a_wrong_signature() -> None:
    headers = signed()
    with pytest.raises(InvalidSignature) as unknown:
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=lambda _: None, now=NOW)
    wrong = consumers(SharedSecret("another secret"))
    with pytest.raises(InvalidSignature) as mismatch:
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=wrong, now=NOW)
    assert unknown.value.message == mismatch.value.message


def test_hmac_consumer_with_rsa_method_fails(rsa_private_key: RSAPrivateKey) -> None:
    result = sign_request(
        "GET", URL, consumer_key=CONSUMER_KEY, consumer_secret=RsaSigningKey(rsa_private_key),
        signature_method=SignatureMethod.RSA_SHA1, now=NOW,
    )  # fmt: skip
    with pytest.raises(InvalidSignature):
        verify_request(
            "GET", URL, {"Authorization": result.authorization}, b"", find_consumer=HMAC, now=NOW
        )


def test_errors_never_contain_the_secret_or_the_signature() -> None:
    headers = signed()
    signature = re.search(r'oauth_signature="([^"]*)"', headers["Authorization"])
    assert signature is not None
    attempts = [
        ("PUT", URL, headers, b'{"a": 1}'),
        ("POST", URL, headers, b"{}"),
        ("POST", URL, {**headers, "Authorization": headers["Authorization"] + " junk"}, b""),
    ]
    for method, url, hdrs, body in attempts:
        with pytest.raises((InvalidSignature, InvalidOAuthRequest)) as caught:
            verify_request(method, url, hdrs, body, find_consumer=HMAC, now=NOW)
        text = str(caught.value) + repr(caught.value.details)
        assert CONSUMER_SECRET not in text
        assert signature.group(1) not in text
        assert '{"a"' not in text


def test_two_authorization_headers_are_refused() -> None:
    headers = signed()
    headers["AUTHORIZATION"] = headers["Authorization"]
    with pytest.raises(InvalidOAuthRequest, match="more than once"):
        verify_request("POST", URL, headers, b'{"a": 1}', find_consumer=HMAC, now=NOW)


def test_overlong_nonce_is_refused() -> None:
    result = sign_request(
        "GET", URL, consumer_key=CONSUMER_KEY, consumer_secret=SharedSecret(CONSUMER_SECRET),
        now=NOW, nonce="n" * 129,
    )  # fmt: skip
    with pytest.raises(InvalidOAuthRequest, match="oauth_nonce"):
        verify_request(
            "GET", URL, {"Authorization": result.authorization}, b"", find_consumer=HMAC, now=NOW
        )


@pytest.mark.parametrize(
    "value",
    ["a b", "a+b", "a%2Bb", "ünïcödé ☃", "!*'();:@&=+$,/?#[]", "", "~-._", "%25"],
)
def test_encodings_round_trip(value: str) -> None:
    from urllib.parse import quote

    url = f"https://home.example.org/p?v={quote(value, safe='')}&v={quote(value, safe='')}"
    result = sign_request(
        "GET", url, [("xoauth_requestor_id", value)], consumer_key=CONSUMER_KEY,
        consumer_secret=SharedSecret(CONSUMER_SECRET), now=NOW, realm="home",
    )  # fmt: skip
    headers = {"Authorization": result.authorization}
    verified = verify_request("GET", url, headers, b"", find_consumer=HMAC, now=NOW)
    assert verified.parameters.count(("v", value)) == 2
    assert ("xoauth_requestor_id", value) in verified.parameters

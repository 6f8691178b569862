"""RFC 5849 §3.4: base string, encoding and the signature methods."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from authgate.signedfetch.errors import InvalidOAuthRequest
from authgate.signedfetch.parameters import collect_parameters
from authgate.signedfetch.signature import (
    RsaSigningKey,
    RsaVerificationKey,
    SharedSecret,
    SignatureMethod,
    base_string_uri,
    normalize_parameters,
    parse_signature_method,
    percent_encode,
    sign,
    signature_base_string,
    verify_signature,
)

# RFC 5849 §3.4.1.1, the example request and its base string as printed in the RFC.
RFC_AUTHORIZATION = (
    'OAuth realm="Example",\r\n'
    '               oauth_consumer_key="9djdj82h48djs9d2",\r\n'
    '               oauth_token="kkk9d7dh3k39sjv7",\r\n'
    '               oauth_signature_method="HMAC-SHA1",\r\n'
    '               oauth_timestamp="137131201",\r\n'
    '               oauth_nonce="7d8f3e4a",\r\n'
    '               oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"'
).replace("\r\n", " ")
RFC_BASE_STRING = (
    "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
    "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
    "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
    "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
    "9d7dh3k39sjv7"
)


def test_rfc_5849_example_base_string_byte_for_byte() -> None:
    parameters = collect_parameters(
        RFC_AUTHORIZATION,
        "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        b"c2&a3=2+q",
        "application/x-www-form-urlencoded",
    )
    base = signature_base_string(
        "post", "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b", parameters.signed
    )
    assert base == RFC_BASE_STRING
    assert parameters.realm == "Example"


def test_rfc_5849_normalised_parameters_example() -> None:
    # §3.4.1.3.2 prints the normalised form of the same parameters.
    pairs = [
        ("b5", "=%3D"), ("a3", "a"), ("c@", ""), ("a2", "r b"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"), ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"), ("c2", ""), ("a3", "2 q"),
    ]  # fmt: skip
    assert normalize_parameters(pairs) == (
        "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9dj"
        "dj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1"
        "&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7"
    )


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("abcXYZ019-._~", "abcXYZ019-._~"),
        (" ", "%20"),
        ("+", "%2B"),
        ("*", "%2A"),
        ("/?#[]@!$&'()=:;,", "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%3D%3A%3B%2C"),
        ("%", "%25"),
        ("é", "%C3%A9"),
        ("☃", "%E2%98%83"),
        ("😀", "%F0%9F%98%80"),
    ],
)
def test_percent_encoding_follows_section_3_6(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://EXAMPLE.COM:80/r%20v/X?id=123", "http://example.com/r%20v/X"),
        ("https://www.example.net:8080/?q=1", "https://www.example.net:8080/"),
        ("https://Example.com:443/path#frag", "https://example.com/path"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com", "http://example.com/"),
        ("http://user:pw@example.com/a", "http://example.com/a"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("https://[2001:DB8::1]/a", "https://[2001:db8::1]/a"),
    ],
)
def test_base_string_uri(url: str, expected: str) -> None:
    assert base_string_uri(url) == expected


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a", "/relative", "http:///nohost", "http://example.com:99999/"]
)
def test_base_string_uri_refuses_unusable_urls(url: str) -> None:
    with pytest.raises(InvalidOAuthRequest):
        base_string_uri(url)


def test_duplicates_are_kept_and_sorted_by_value() -> None:
    assert normalize_parameters([("a", "2"), ("a", "1"), ("a", "1")]) == "a=1&a=1&a=2"


def test_sorting_is_on_encoded_names() -> None:
    # "a b" encodes to "a%20b", which sorts before "a-b" ('%' < '-') and "a=" ("a%3D").
    assert normalize_parameters([("a-b", ""), ("a b", ""), ("a=", "")]) == "a%20b=&a%3D=&a-b="


@pytest.mark.parametrize("method", ["PLAINTEXT"])
def test_plaintext_is_refused(method: str) -> None:
    with pytest.raises(InvalidOAuthRequest, match="PLAINTEXT is refused"):
        parse_signature_method(method)


@pytest.mark.parametrize("method", ["hmac-sha1", "HMAC-MD5", "RSA-SHA256", "", "HMAC-SHA512"])
def test_unknown_methods_are_refused(method: str) -> None:
    with pytest.raises(InvalidOAuthRequest, match="not supported"):
        parse_signature_method(method)


@pytest.mark.parametrize("method", [SignatureMethod.HMAC_SHA1, SignatureMethod.HMAC_SHA256])
def test_hmac_sign_then_verify(method: SignatureMethod) -> None:
    secret = SharedSecret("consumer&secret", "token secret")
    signature = sign(RFC_BASE_STRING, method, secret)
    assert len(base64.b64decode(signature)) == (32 if method is SignatureMethod.HMAC_SHA256 else 20)
    assert verify_signature(RFC_BASE_STRING, method, signature, secret)
    assert not verify_signature(RFC_BASE_STRING + "x", method, signature, secret)
    assert not verify_signature(RFC_BASE_STRING, method, signature, SharedSecret("other"))
    assert not verify_signature(RFC_BASE_STRING, method, signature, SharedSecret("consumer&secret"))


def test_hmac_of_the_two_methods_differ() -> None:
    secret = SharedSecret("k")
    sha1 = sign(RFC_BASE_STRING, SignatureMethod.HMAC_SHA1, secret)
    assert not verify_signature(RFC_BASE_STRING, SignatureMethod.HMAC_SHA256, sha1, secret)


def test_rsa_sha1_sign_then_verify(rsa_private_key: RSAPrivateKey) -> None:
    signature = sign(RFC_BASE_STRING, SignatureMethod.RSA_SHA1, RsaSigningKey(rsa_private_key))
    public = RsaVerificationKey(rsa_private_key.public_key())
    assert verify_signature(RFC_BASE_STRING, SignatureMethod.RSA_SHA1, signature, public)
    assert not verify_signature(RFC_BASE_STRING + "x", SignatureMethod.RSA_SHA1, signature, public)


def test_credential_of_the_wrong_kind_never_verifies(rsa_private_key: RSAPrivateKey) -> None:
    secret = SharedSecret("k")
    signature = sign(RFC_BASE_STRING, SignatureMethod.HMAC_SHA1, secret)
    public = RsaVerificationKey(rsa_private_key.public_key())
    assert not verify_signature(RFC_BASE_STRING, SignatureMethod.HMAC_SHA1, signature, public)
    assert not verify_signature(RFC_BASE_STRING, SignatureMethod.RSA_SHA1, signature, secret)


@pytest.mark.parametrize("garbage", ["", "not base64!", "é", "====", "AAAA"])
def test_malformed_signatures_do_not_verify(garbage: str, rsa_private_key: RSAPrivateKey) -> None:
    public = RsaVerificationKey(rsa_private_key.public_key())
    assert not verify_signature(
        RFC_BASE_STRING, SignatureMethod.HMAC_SHA1, garbage, SharedSecret("k")
    )
    assert not verify_signature(RFC_BASE_STRING, SignatureMethod.RSA_SHA1, garbage, public)


def test_secrets_never_appear_in_repr(rsa_private_key: RSAPrivateKey) -> None:
    assert "hunter2" not in repr(SharedSecret("hunter2", "hunter2"))
    assert "PRIVATE" not in repr(RsaSigningKey(rsa_private_key))

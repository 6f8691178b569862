"""SECURITY.md's signed-fetch items, tried against the home-server kit.

Timestamps, nonces and replay, encodings, duplicate parameters, methods, PLAINTEXT, body
hashes, and unknown versus wrong keys taking the same path.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from authgate.homeserver import (
    InMemoryNonceStore,
    InvalidOAuthRequest,
    InvalidSignature,
    ReplayedNonce,
    SignedFetchVerifier,
)
from authgate.signedfetch.body_hash import body_hash
from authgate.signedfetch.signature import RsaSigningKey, SharedSecret, SignatureMethod
from tests.unit.homeserver.conftest import (
    APP_KEY,
    APP_SECRET,
    BASE,
    NOW,
    fixed_clock,
    gateway_sign,
    gateway_url,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def verifier(**kwargs: object) -> SignedFetchVerifier:
    kwargs.setdefault("clock", fixed_clock())
    return SignedFetchVerifier({APP_KEY: APP_SECRET}, **kwargs)  # type: ignore[arg-type]


def replace_param(header: str, name: str, value: str) -> str:
    return re.sub(rf'{name}="[^"]*"', f'{name}="{value}"', header)


# Timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-300, -1, 0, 1, 300])
def test_timestamps_inside_the_window_are_accepted(skew: int) -> None:
    url, headers = gateway_sign(now=NOW + timedelta(seconds=skew))
    assert verifier().verify("GET", url, headers)


@pytest.mark.parametrize("skew", [-301, 301, -86400, 10**6])
def test_timestamps_outside_the_window_are_refused(skew: int) -> None:
    url, headers = gateway_sign(now=NOW + timedelta(seconds=skew))
    with pytest.raises(InvalidSignature, match="outside the 300 s window"):
        verifier().verify("GET", url, headers)


def test_the_window_is_configurable() -> None:
    url, headers = gateway_sign(now=NOW - timedelta(seconds=60))
    with pytest.raises(InvalidSignature, match="outside the 30 s window"):
        verifier(window=30).verify("GET", url, headers)


@pytest.mark.parametrize("stamp", ["", "-1", "1.5", "abc", "1e9", "０１２", "9" * 13])
def test_malformed_timestamps_are_refused(stamp: str) -> None:
    url, headers = gateway_sign()
    headers["Authorization"] = replace_param(headers["Authorization"], "oauth_timestamp", stamp)
    with pytest.raises(InvalidOAuthRequest):
        verifier().verify("GET", url, headers)


# Nonces and replay -----------------------------------------------------------------------


def test_a_replayed_request_is_refused_with_its_own_code() -> None:
    url, headers = gateway_sign()
    checker = verifier()
    checker.verify("GET", url, headers)
    with pytest.raises(ReplayedNonce) as caught:
        checker.verify("GET", url, headers)
    assert (caught.value.code, caught.value.status) == ("replayed_nonce", 401)


def test_a_nonce_reused_with_another_timestamp_is_refused() -> None:
    checker = verifier()
    url, headers = gateway_sign(nonce="same-nonce")
    checker.verify("GET", url, headers)
    url, headers = gateway_sign(nonce="same-nonce", now=NOW + timedelta(seconds=5))
    with pytest.raises(ReplayedNonce):
        checker.verify("GET", url, headers)


def test_the_nonce_is_recorded_only_after_the_signature_verified() -> None:
    nonces = InMemoryNonceStore()
    checker = verifier(nonces=nonces)
    url, headers = gateway_sign(nonce="n-forged")
    forged = dict(headers)
    forged["Authorization"] = replace_param(headers["Authorization"], "oauth_signature", "AAAA")
    with pytest.raises(InvalidSignature):
        checker.verify("GET", url, forged)
    assert len(nonces) == 0
    assert checker.verify("GET", url, headers).nonce == "n-forged"  # not burnt by the forgery
    assert len(nonces) == 1


def test_a_request_refused_for_its_identity_records_no_nonce() -> None:
    nonces = InMemoryNonceStore()
    url, headers = gateway_sign(url=BASE)  # signed, but no opensocial_owner_id
    with pytest.raises(Exception, match="opensocial_owner_id"):
        verifier(nonces=nonces).verify("GET", url, headers)
    assert len(nonces) == 0


def test_nonces_of_different_consumers_do_not_collide() -> None:
    checker = SignedFetchVerifier({APP_KEY: APP_SECRET, "other": "x"}, clock=fixed_clock())
    url, headers = gateway_sign(nonce="shared")
    checker.verify("GET", url, headers)
    url, headers = gateway_sign(nonce="shared", key="other", credential=None)
    with pytest.raises(InvalidSignature):  # signed with APP_SECRET under "other": wrong secret
        checker.verify("GET", url, headers)
    url, headers = gateway_sign(nonce="shared", key="other", credential=SharedSecret("x"))
    assert checker.verify("GET", url, headers).consumer_key == "other"


def test_an_overlong_nonce_is_refused() -> None:
    url, headers = gateway_sign(nonce="n" * 129)
    with pytest.raises(InvalidOAuthRequest, match="oauth_nonce is longer"):
        verifier().verify("GET", url, headers)


# Encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "owner",
    [
        "jürgen@inst",
        "a+b@inst",
        "a b@inst",
        "100%@inst",
        "x&y=z@inst",
        "o'brien@in~st",
        "雪@inst",
        "emoji😀@inst",
    ],
)
def test_reserved_and_non_ascii_characters_in_signed_values(owner: str) -> None:
    url, headers = gateway_sign(url=gateway_url(owner=owner))
    fetch = verifier().verify("GET", url, headers)
    assert fetch.owner_id == owner
    assert fetch.instance_id == owner.rpartition("@")[2]


def test_percent_encoded_path_is_signed_as_sent() -> None:
    url, headers = gateway_sign(url=gateway_url(path="https://home.example.org/a%20b/%E2%98%83"))
    assert verifier().verify("GET", url, headers)
    with pytest.raises(InvalidSignature):
        verifier().verify("GET", url.replace("a%20b", "a%20c"), headers)


def test_plus_in_the_query_is_a_space_and_signed_as_one() -> None:
    url, headers = gateway_sign(url=gateway_url() + "&q=a+b")
    assert verifier().verify("GET", url, headers).get("q") == "a b"
    # The same query with %20 means the same parameters: the signature still holds.
    assert verifier().verify("GET", url.replace("q=a+b", "q=a%20b"), headers).get("q") == "a b"
    with pytest.raises(InvalidSignature):
        verifier().verify("GET", url.replace("q=a+b", "q=a%2Bb"), headers)


@pytest.mark.parametrize(
    ("seen", "ok"),
    [
        ("https://home.example.org:8443/api/items", True),
        ("HTTPS://HOME.EXAMPLE.ORG:8443/api/items", True),
        ("https://home.example.org/api/items", False),  # the port is signed
        ("http://home.example.org:8443/api/items", False),  # so is the scheme
        ("https://home.example.org:8443/api/Items", False),  # and the path's case
        ("https://other.example.org:8443/api/items", False),
    ],
)
def test_scheme_host_and_port_are_signed(seen: str, ok: bool) -> None:
    url, headers = gateway_sign()
    query = url.partition("?")[2]
    if ok:
        assert verifier().verify("GET", f"{seen}?{query}", headers)
    else:
        with pytest.raises(InvalidSignature):
            verifier().verify("GET", f"{seen}?{query}", headers)


def test_default_ports_are_the_same_url() -> None:
    url, headers = gateway_sign(url=gateway_url(path="https://home.example.org/x"))
    assert verifier().verify("GET", url.replace(".org/", ".org:443/"), headers)


@pytest.mark.parametrize("bad", ["%", "%zz", "%C3%28", "%FF"])
def test_broken_percent_encoding_is_a_400(bad: str) -> None:
    url, headers = gateway_sign()
    with pytest.raises(InvalidOAuthRequest):
        verifier().verify("GET", f"{url}&broken={bad}", headers)


# Duplicate parameters ------------------------------------------------------------------------


def test_repeated_ordinary_parameters_are_all_signed() -> None:
    url, headers = gateway_sign(url=gateway_url() + "&tag=b&tag=a&tag=b")
    assert verifier().verify("GET", url, headers)
    with pytest.raises(InvalidSignature):
        verifier().verify("GET", url + "&tag=b", headers)
    with pytest.raises(InvalidSignature):
        verifier().verify("GET", url.replace("&tag=a", ""), headers)


def test_a_repeated_protocol_parameter_is_refused() -> None:
    url, headers = gateway_sign()
    headers["Authorization"] += ', oauth_nonce="second"'
    with pytest.raises(InvalidOAuthRequest, match="oauth_nonce appears more than once"):
        verifier().verify("GET", url, headers)


def test_protocol_parameters_in_two_places_are_refused() -> None:
    url, headers = gateway_sign()
    with pytest.raises(InvalidOAuthRequest, match="one place only"):
        verifier().verify("GET", url + "&oauth_token=x", headers)


def test_an_added_second_owner_is_refused_before_the_signature_matters() -> None:
    url, headers = gateway_sign()
    with pytest.raises(InvalidSignature):
        verifier().verify("GET", url + "&opensocial_owner_id=mallory%40acme-prod", headers)


def test_a_signed_duplicate_owner_is_refused() -> None:
    url, headers = gateway_sign(url=gateway_url() + "&opensocial_owner_id=mallory%40acme-prod")
    with pytest.raises(Exception, match="appears more than once") as caught:
        verifier().verify("GET", url, headers)
    assert getattr(caught.value, "code", None) == "invalid_owner_id"


def test_two_authorization_headers_are_refused() -> None:
    url, headers = gateway_sign()

    class TwoHeaders(dict[str, str]):
        def items(self):  # type: ignore[override]
            return [*super().items(), ("authorization", headers["Authorization"])]

    with pytest.raises(InvalidOAuthRequest, match="more than once"):
        verifier().verify("GET", url, TwoHeaders(headers))


# Methods --------------------------------------------------------------------------------------


@pytest.mark.parametrize("other", ["POST", "PUT", "DELETE", "HEAD", "PATCH"])
def test_the_method_is_signed(other: str) -> None:
    url, headers = gateway_sign("GET")
    with pytest.raises(InvalidSignature):
        verifier().verify(other, url, headers)


def test_the_method_is_compared_upper_cased() -> None:
    url, headers = gateway_sign("DELETE")
    assert verifier().verify("delete", url, headers)


@pytest.mark.parametrize("method", ["PLAINTEXT", "RSA-SHA256", "HMAC-MD5", "hmac-sha1", ""])
def test_plaintext_and_unknown_signature_methods_are_refused(method: str) -> None:
    url, headers = gateway_sign()
    headers["Authorization"] = replace_param(
        headers["Authorization"], "oauth_signature_method", method
    )
    with pytest.raises(InvalidOAuthRequest) as caught:
        verifier().verify("GET", url, headers)
    if method == "PLAINTEXT":
        assert "sends the secret itself" in caught.value.message


def test_plaintext_with_the_secret_as_signature_is_refused() -> None:
    url, headers = gateway_sign()
    auth = replace_param(headers["Authorization"], "oauth_signature_method", "PLAINTEXT")
    auth = replace_param(auth, "oauth_signature", quote(f"{quote(APP_SECRET, safe='')}&", safe=""))
    with pytest.raises(InvalidOAuthRequest, match="PLAINTEXT"):
        verifier().verify("GET", url, {"Authorization": auth})


def test_only_oauth_version_1_0_is_accepted() -> None:
    url, headers = gateway_sign()
    headers["Authorization"] = replace_param(headers["Authorization"], "oauth_version", "2.0")
    with pytest.raises(InvalidOAuthRequest, match="oauth_version"):
        verifier().verify("GET", url, headers)


# Body hashes ------------------------------------------------------------------------------------


def test_a_non_form_body_without_body_hash_is_refused() -> None:
    url, headers = gateway_sign("POST", body=b"{}", content_type=JSON)
    headers["Authorization"] = re.sub(r', oauth_body_hash="[^"]*"', "", headers["Authorization"])
    with pytest.raises(InvalidOAuthRequest, match="must carry oauth_body_hash"):
        verifier().verify("POST", url, headers, b"{}")


@pytest.mark.parametrize("body", [b'{"a": 2}', b'{"a": 1} ', b"", b'{"a": 1}\x00'])
def test_a_swapped_body_is_refused(body: bytes) -> None:
    url, headers = gateway_sign("POST", body=b'{"a": 1}', content_type=JSON)
    with pytest.raises((InvalidSignature, InvalidOAuthRequest)):
        verifier().verify("POST", url, headers, body)


def test_a_body_hash_with_a_form_body_is_refused() -> None:
    body = b"a=1"
    url, headers = gateway_sign("POST", body=body, content_type=FORM)
    headers["Authorization"] += f', oauth_body_hash="{body_hash(body, SignatureMethod.HMAC_SHA1)}"'
    with pytest.raises(InvalidOAuthRequest, match="must not be sent with a form-encoded body"):
        verifier().verify("POST", url, headers, body)


def test_a_changed_form_body_is_refused() -> None:
    url, headers = gateway_sign("POST", body=b"a=1", content_type=FORM)
    with pytest.raises(InvalidSignature):
        verifier().verify("POST", url, headers, b"a=2")


def test_the_body_hash_vectors_of_the_extension() -> None:
    # draft-eaton-oauth-bodyhash-00, appendix A: "Hello World!" and the empty body (SHA-1).
    assert body_hash(b"Hello World!", SignatureMethod.HMAC_SHA1) == "Lve95gjOVATpfV8EL5X4nxwjKHE="
    assert body_hash(b"", SignatureMethod.HMAC_SHA1) == "2jmj7l5rSw0yVb/vlWAYkK/YBwk="
    url, headers = gateway_sign("POST", body=b"Hello World!", content_type="text/plain")
    assert 'oauth_body_hash="Lve95gjOVATpfV8EL5X4nxwjKHE%3D"' in headers["Authorization"]
    assert verifier().verify("POST", url, headers, b"Hello World!")


# Wrong and unknown keys -------------------------------------------------------------------------


def test_wrong_secret_and_unknown_key_look_the_same() -> None:
    url, headers = gateway_sign()
    wrong = SignedFetchVerifier({APP_KEY: "not-the-secret"}, clock=fixed_clock())
    unknown = SignedFetchVerifier({"someone-else": APP_SECRET}, clock=fixed_clock())
    with pytest.raises(InvalidSignature) as first:
        wrong.verify("GET", url, headers)
    with pytest.raises(InvalidSignature) as second:
        unknown.verify("GET", url, headers)
    assert (first.value.code, first.value.status, first.value.message) == (
        second.value.code,
        second.value.status,
        second.value.message,
    )
    assert APP_SECRET not in first.value.message


def test_an_rsa_signature_under_an_hmac_key_is_refused(rsa_private_key: RSAPrivateKey) -> None:
    url, headers = gateway_sign(
        credential=RsaSigningKey(rsa_private_key),
        signature_method=SignatureMethod.RSA_SHA1,
    )
    with pytest.raises(InvalidSignature):
        verifier().verify("GET", url, headers)


@pytest.mark.parametrize("signature", ["", "%3D", "not base64!", "QUJD", "A" * 2000])
def test_garbage_signatures_are_refused_cleanly(signature: str) -> None:
    url, headers = gateway_sign()
    headers["Authorization"] = replace_param(headers["Authorization"], "oauth_signature", signature)
    with pytest.raises((InvalidSignature, InvalidOAuthRequest)):
        verifier().verify("GET", url, headers)


@pytest.mark.parametrize(
    "authorization",
    ["", "OAuth", "Bearer abc", 'OAuth oauth_consumer_key="a', "OAuth ,,,", "OAuth x=y"],
)
def test_malformed_authorization_headers_are_a_400(authorization: str) -> None:
    url = gateway_url()
    with pytest.raises(InvalidOAuthRequest):
        verifier().verify("GET", url, {"Authorization": authorization})

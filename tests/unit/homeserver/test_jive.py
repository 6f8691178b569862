"""The JiveEXTN header scheme: third-party vectors, tampering, timestamps, malformed headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authgate.homeserver import (
    InMemoryNonceStore,
    InvalidJiveAuthorization,
    InvalidJiveSignature,
    JiveExtnVerifier,
    ReplayedNonce,
)
from authgate.homeserver.jive import jive_authorization, jive_secret_key, sign_jive_text

# Published with the Ruby gem jive-signed_request (its README and spec), which signs as the
# Jive add-on SDKs do: a client id and secret of the Jive sandbox.
CLIENT_ID = "682a638ba74a4ff5fa6afa344b163e03.i"
CLIENT_SECRET = "8bd2952b851747e8f2c937b340fed6e1.s"
TENANT = "b22e3911-28ef-480c-ae3b-ca791ba86952"
SPEC_TEXT = (
    "algorithm=HmacSHA256&client_id=682a638ba74a4ff5fa6afa344b163e03.i"
    "&jive_url=https%3A%2F%2Fsandbox.jiveon.com%3A8443"
    "&tenant_id=b22e3911-28ef-480c-ae3b-ca791ba86952&timestamp=1436646363000"
)
SPEC_SIGNATURE = "B7bRJn+lWS6CrY+Hq/pr8uCSevDUNmMIqKEq+ulLoG4="
README_HEADER = (
    "JiveEXTN algorithm=HmacSHA256&client_id=682a638ba74a4ff5fa6afa344b163e03.i"
    "&jive_url=https%3A%2F%2Fsandbox.jiveon.com%3A8443"
    "&tenant_id=b22e3911-28ef-480c-ae3b-ca791ba86952&timestamp=1436646990000"
    "&signature=GjQpEvBUoqUldgUk5bkUUrfwwUYIOcnh4IvQaDEQ4p8%3D"
)
README_TIME = datetime.fromtimestamp(1436646990, UTC)
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def at(when: datetime) -> JiveExtnVerifier:
    return JiveExtnVerifier({CLIENT_ID: CLIENT_SECRET}, clock=lambda: when)


def header(timestamp_ms: int = NOW_MS, **override: str) -> str:
    values = {"tenant_id": TENANT, "jive_url": "https://jive.example.com", **override}
    return jive_authorization(
        CLIENT_ID, values["tenant_id"], values["jive_url"], timestamp_ms, CLIENT_SECRET
    )


def test_the_gem_spec_signature_vector() -> None:
    assert sign_jive_text(SPEC_TEXT, CLIENT_SECRET) == SPEC_SIGNATURE


def test_the_secret_is_decoded_leniently_as_the_sdks_do() -> None:
    # "….s" is not base64; the SDKs skip the '.' and drop the dangling character.
    assert jive_secret_key(CLIENT_SECRET) == jive_secret_key(CLIENT_SECRET[:-2])
    assert len(jive_secret_key(CLIENT_SECRET)) == 24
    assert jive_secret_key("YWJj") == b"abc"
    assert jive_secret_key("YWJj==trailing") == b"abc"
    assert jive_secret_key("-_8=") == jive_secret_key("+/8=")


def test_the_gem_readme_header_verifies() -> None:
    identity = at(README_TIME).verify(README_HEADER)
    assert identity.client_id == CLIENT_ID
    assert identity.tenant_id == TENANT
    assert identity.jive_url == "https://sandbox.jiveon.com:8443"
    assert identity.timestamp_ms == 1436646990000


def test_an_unencoded_signature_verifies_too() -> None:
    # The Node SDK's test helper appends the base64 signature without percent-encoding it.
    raw = f"JiveEXTN {SPEC_TEXT}&signature={SPEC_SIGNATURE}"
    assert at(datetime.fromtimestamp(1436646363, UTC)).verify(raw).tenant_id == TENANT


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (TENANT, "b22e3911-28ef-480c-ae3b-ca791ba86953"),
        ("sandbox.jiveon.com", "evil.example.com"),
        ("timestamp=1436646990000", "timestamp=1436646990001"),
        ("client_id=682a", "client_id=682b"),
        ("GjQp", "GjQq"),
    ],
)
def test_any_change_breaks_the_signature(old: str, new: str) -> None:
    with pytest.raises(InvalidJiveSignature) as caught:
        at(README_TIME).verify(README_HEADER.replace(old, new))
    assert (caught.value.code, caught.value.status) == ("invalid_jive_signature", 401)


def test_unknown_client_and_wrong_secret_look_the_same() -> None:
    unknown = JiveExtnVerifier({"other.i": CLIENT_SECRET}, clock=lambda: README_TIME)
    wrong = JiveExtnVerifier({CLIENT_ID: "c29tZXRoaW5nIGVsc2U="}, clock=lambda: README_TIME)
    with pytest.raises(InvalidJiveSignature) as first:
        unknown.verify(README_HEADER)
    with pytest.raises(InvalidJiveSignature) as second:
        wrong.verify(README_HEADER)
    assert first.value.message == second.value.message
    assert CLIENT_SECRET not in first.value.message


def test_secrets_may_be_looked_up_by_client_and_tenant() -> None:
    asked: list[tuple[str, str]] = []

    def lookup(client_id: str, tenant_id: str) -> str | None:
        asked.append((client_id, tenant_id))
        return CLIENT_SECRET if tenant_id == TENANT else None

    assert JiveExtnVerifier(lookup, clock=lambda: README_TIME).verify(README_HEADER)
    assert asked == [(CLIENT_ID, TENANT)]


@pytest.mark.parametrize(("age_s", "ok"), [(0, True), (299, True), (300, True), (301, False)])
def test_headers_older_than_the_window_are_refused(age_s: int, ok: bool) -> None:
    value = header(NOW_MS - age_s * 1000)
    if ok:
        assert at(NOW).verify(value)
    else:
        with pytest.raises(InvalidJiveSignature, match="s old"):
            at(NOW).verify(value)


@pytest.mark.parametrize(("ahead_s", "ok"), [(1, True), (30, True), (31, False), (3600, False)])
def test_headers_from_the_future_are_refused_past_the_allowed_skew(ahead_s: int, ok: bool) -> None:
    value = header(NOW_MS + ahead_s * 1000)
    if ok:
        assert at(NOW).verify(value)
    else:
        with pytest.raises(InvalidJiveSignature, match="ahead of the server clock"):
            at(NOW).verify(value)


def test_no_future_skew_as_the_sdks() -> None:
    strict = JiveExtnVerifier({CLIENT_ID: CLIENT_SECRET}, max_future=0, clock=lambda: NOW)
    with pytest.raises(InvalidJiveSignature):
        strict.verify(header(NOW_MS + 2000))


def test_the_scheme_is_case_insensitive_and_padding_is_ignored() -> None:
    value = header().replace("JiveEXTN ", "jiveextn   ", 1) + "  "
    assert at(NOW).verify(value).tenant_id == TENANT


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda h: h.replace("JiveEXTN", "OAuth"), "does not use the JiveEXTN scheme"),
        (lambda h: h.partition("&signature=")[0], "carries no signature"),
        (lambda h: h + "&extra=1", "signature must be the last"),
        (lambda h: h.replace("&tenant_id=", "&tenant_id=x&tenant_id="), "more than once"),
        (lambda h: h.replace("algorithm=HmacSHA256&", ""), "algorithm is missing"),
        (lambda h: h.replace("&jive_url=", "&jive_url_=", 1), "jive_url is missing"),
        (lambda h: h.replace(f"&tenant_id={TENANT}", "&tenant_id="), "tenant_id is missing"),
        (lambda h: h.replace("HmacSHA256", "HmacSHA1"), "is not supported"),
        (lambda h: h.replace("&timestamp=", "&timestamp=-"), "milliseconds"),
        (lambda h: h.replace("&timestamp=", "&timestamp=1e"), "milliseconds"),
        (lambda h: h.replace("&client_id=", "&client_id=%zz"), "%XX"),
        (lambda h: h.replace("&client_id", "&&client_id"), "name=value pairs"),
        (lambda h: h + "x" * 5000, "longer than"),
    ],
)
def test_malformed_headers_are_a_precise_400(mutate: object, message: str) -> None:
    value = mutate(header())  # type: ignore[operator]
    with pytest.raises(InvalidJiveAuthorization, match=message) as caught:
        at(NOW).verify(value)
    assert (caught.value.code, caught.value.status) == ("invalid_jive_authorization", 400)


@pytest.mark.parametrize("signature", ["", "%%%", "not-base64!", "QUJD"])
def test_garbage_signatures_are_refused(signature: str) -> None:
    value = header().partition("&signature=")[0] + "&signature=" + signature
    with pytest.raises((InvalidJiveSignature, InvalidJiveAuthorization)):
        at(NOW).verify(value)


def test_a_nonce_store_makes_each_header_single_use() -> None:
    once = JiveExtnVerifier(
        {CLIENT_ID: CLIENT_SECRET}, clock=lambda: NOW, nonces=InMemoryNonceStore()
    )
    value = header()
    once.verify(value)
    with pytest.raises(ReplayedNonce):
        once.verify(value)
    assert at(NOW).verify(value)  # without a store the scheme itself has no replay check


def test_verify_headers_wants_exactly_one_authorization() -> None:
    value = header()
    assert at(NOW).verify_headers({"authorization": value}).client_id == CLIENT_ID
    with pytest.raises(InvalidJiveAuthorization, match="exactly one"):
        at(NOW).verify_headers({"Content-Type": "text/plain"})

    class Two(dict[str, str]):
        def items(self):  # type: ignore[override]
            return [("Authorization", value), ("authorization", value)]

    with pytest.raises(InvalidJiveAuthorization, match="exactly one"):
        at(NOW).verify_headers(Two())


def test_configuration_mistakes_are_caught() -> None:
    with pytest.raises(ValueError, match="window"):
        JiveExtnVerifier({CLIENT_ID: CLIENT_SECRET}, window=0)
    with pytest.raises(ValueError, match="max_future"):
        JiveExtnVerifier({CLIENT_ID: CLIENT_SECRET}, max_future=-1)

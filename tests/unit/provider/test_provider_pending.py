"""Requests in flight travel sealed: tampering, expiry, another key or another browser
session all make them stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authgate.crypto.sealing import Sealer
from authgate.provider.authorization import AuthorizationRequest
from authgate.provider.errors import StaleAuthorization
from authgate.provider.pending import PendingRequests

REQUEST = AuthorizationRequest(
    client_id="app_1",
    redirect_uri="https://app.example/cb",
    redirect_uri_given=True,
    scope="openid",
    state="st",
    nonce=None,
    code_challenge=None,
    prompt=("consent",),
    max_age=None,
    login_hint=None,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_sealed_request_opens_until_it_expires() -> None:
    clock = Clock()
    pending = PendingRequests(Sealer(b"k" * 32), clock, ttl=60)
    sealed = pending.seal(REQUEST)
    assert "app.example" not in sealed
    assert sealed.isascii()
    assert pending.open(sealed) == REQUEST
    clock.now += timedelta(seconds=61)
    with pytest.raises(StaleAuthorization):
        pending.open(sealed)


def test_a_request_sealed_for_one_browser_session_does_not_open_for_another() -> None:
    pending = PendingRequests(Sealer(b"k" * 32), Clock())
    sealed = pending.seal(REQUEST, session_id="s1")
    assert pending.open(sealed, session_id="s1") == REQUEST
    for other in ("s2", None):
        with pytest.raises(StaleAuthorization):
            pending.open(sealed, session_id=other)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-2] + "AA",
        lambda s: "B" + s[1:],
        lambda s: s[:20],
        lambda s: "",
        lambda s: s + "!",
        lambda s: "é" + s,
    ],
)
def test_tampered_or_foreign_values_are_stale(mangle: object) -> None:
    pending = PendingRequests(Sealer(b"k" * 32), Clock())
    sealed = pending.seal(REQUEST)
    with pytest.raises(StaleAuthorization):
        pending.open(mangle(sealed))  # type: ignore[operator]
    with pytest.raises(StaleAuthorization):
        PendingRequests(Sealer(b"j" * 32), Clock()).open(sealed)

"""Bad input to the SSO endpoints gets a clear 4xx with a stable code: never a 500, never a
redirect to an unchecked address, whatever the query, form or body."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.conftest import Authgate

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = ["idp", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state",
         "login_hint", "code", "iss", "error", "code_verifier", "grant_type"]  # fmt: skip
text = st.text(max_size=300)


@FUZZ
@given(st.dictionaries(st.sampled_from(NAMES), text, max_size=8))
async def test_any_query_to_start_and_callback_is_a_4xx_page_or_json(
    ag: Authgate, query: dict[str, str]
) -> None:
    for path in ("/v1/sso/start", "/v1/sso/callback", "/v1/sso/link"):
        response = await ag.client.get(f"{path}?{urlencode(query)}")
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert "location" not in response.headers


@FUZZ
@given(st.dictionaries(st.sampled_from(NAMES), text, max_size=8))
async def test_any_form_to_the_token_endpoint_is_an_oauth_error(
    ag: Authgate, form: dict[str, str]
) -> None:
    response = await ag.client.post("/v1/sso/token", data=form)

    assert 400 <= response.status_code < 500
    assert "error" in response.json()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["email", "idp", "idToken", "nonce", "x"]), JSON, max_size=4)
)
async def test_any_json_to_discover_and_device_endpoints_is_a_4xx(
    ag: Authgate, body: dict[str, Any]
) -> None:
    for path in ("/v1/sso/discover", "/v1/sso/device/start", "/v1/sso/device/token"):
        response = await ag.client.post(path, json=body)
        assert response.status_code < 500, (path, response.text)
        if response.status_code >= 400:
            assert response.json()["error"]["code"]


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"email": 5}', b'{"email": "' + b"a" * 3_000_000 + b'@b.c"}'],
)
async def test_malformed_bodies_are_refused_cleanly(ag: Authgate, body: bytes) -> None:
    for path in ("/v1/sso/discover", "/v1/sso/device/start", "/v1/sso/device/token"):
        response = await ag.client.post(
            path, content=body, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (path, response.text)

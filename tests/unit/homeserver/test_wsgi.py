"""The WSGI middleware behind wsgiref's server on 127.0.0.1, called with requests signed by
requests-oauthlib."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
import requests
from requests_oauthlib import OAuth1

from authgate.homeserver import SignedFetchVerifier
from authgate.homeserver.errors import MissingIdentity
from authgate.homeserver.wsgi import (
    ENVIRON_KEY,
    SignedFetchWSGIMiddleware,
    current_signed_fetch,
    request_url,
)
from tests.unit.homeserver.conftest import APP_KEY, APP_SECRET, INSTANCE, USER, identity_query
from tests.unit.homeserver.servers import wsgiref_server

TIMEOUT = 10


def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A bare WSGI application, as Flask's wsgi_app would be."""
    if environ["PATH_INFO"] == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    fetch = current_signed_fetch(environ)
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length).decode()
    answer = {"user_id": fetch.user_id, "instance_id": fetch.instance_id, "body": body}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(answer).encode()]


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    wrapped = SignedFetchWSGIMiddleware(
        app,
        SignedFetchVerifier({APP_KEY: APP_SECRET}),
        exempt_paths={"/healthz"},
        max_body=1000,
        realm="notes",
    )
    with wsgiref_server(wrapped) as url:
        yield url


def auth(secret: str = APP_SECRET, *, body: bool = False) -> OAuth1:
    return OAuth1(APP_KEY, client_secret=secret, force_include_body=body)


def test_a_signed_get_reaches_the_application(base: str) -> None:
    response = requests.get(f"{base}/api/me?{identity_query()}", auth=auth(), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.json() == {"user_id": USER, "instance_id": INSTANCE, "body": ""}


def test_a_percent_encoded_path_verifies(base: str) -> None:
    url = f"{base}/api/a%20b/%E2%98%83?{identity_query()}"
    response = requests.get(url, auth=auth(), timeout=TIMEOUT)
    assert response.status_code == 200, response.text


def test_a_signed_json_post_keeps_its_body(base: str) -> None:
    payload = '{"note": "Grüße"}'
    response = requests.post(
        f"{base}/api/me?{identity_query()}",
        data=payload.encode(),
        headers={"Content-Type": "application/json"},
        auth=auth(body=True),
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert response.json()["body"] == payload


def test_a_signed_form_post_keeps_its_body(base: str) -> None:
    response = requests.post(
        f"{base}/api/me?{identity_query()}", data={"a": "1 2"}, auth=auth(), timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert response.json()["body"] == "a=1+2"


def test_refusals_are_json_with_the_challenge(base: str) -> None:
    unsigned = requests.get(f"{base}/api/me?{identity_query()}", timeout=TIMEOUT)
    assert unsigned.status_code == 400
    assert unsigned.json()["error"] == "invalid_oauth_request"
    wrong = requests.get(f"{base}/api/me?{identity_query()}", auth=auth("x"), timeout=TIMEOUT)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_signature"
    assert wrong.headers["WWW-Authenticate"] == 'OAuth realm="notes"'
    assert wrong.headers["Cache-Control"] == "no-store"


def test_a_replay_is_refused(base: str) -> None:
    prepared = requests.Request("GET", f"{base}/api/me?{identity_query()}", auth=auth()).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=TIMEOUT).status_code == 200
        again = session.send(prepared, timeout=TIMEOUT)
    assert (again.status_code, again.json()["error"]) == (401, "replayed_nonce")


def test_too_large_and_exempt(base: str) -> None:
    large = requests.post(
        f"{base}/api/me?{identity_query()}",
        data=b"[" * 2000,
        headers={"Content-Type": "text/plain"},
        timeout=TIMEOUT,
    )
    assert (large.status_code, large.json()["error"]) == (413, "request_body_too_large")
    assert requests.get(f"{base}/healthz", timeout=TIMEOUT).text == "ok"


def test_request_url_prefers_the_raw_request_line_and_public_origin() -> None:
    environ = {
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "127.0.0.1:8081",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/a b",
        "QUERY_STRING": "x=1",
        "RAW_URI": "/a%20b?x=1",
    }
    assert request_url(environ) == "http://127.0.0.1:8081/a%20b?x=1"
    del environ["RAW_URI"]
    assert request_url(environ) == "http://127.0.0.1:8081/a%20b?x=1"
    assert request_url(environ, "https://home.example.org/") == "https://home.example.org/a%20b?x=1"


def test_current_signed_fetch_outside_the_middleware() -> None:
    with pytest.raises(MissingIdentity):
        current_signed_fetch({})
    assert ENVIRON_KEY == "authgate.signed_fetch"

"""The Starlette middleware and the FastAPI dependency, behind a real uvicorn on 127.0.0.1,
called with requests signed by requests-oauthlib."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fastapi import Depends, FastAPI
from requests_oauthlib import OAuth1
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from authgate.homeserver import AsyncSignedFetchVerifier, SignedFetch, SignedFetchVerifier
from authgate.homeserver.starlette import (
    SignedFetchMiddleware,
    current_signed_fetch,
    error_handlers,
    require_signed_fetch,
)
from tests.unit.homeserver.conftest import APP_KEY, APP_SECRET, INSTANCE, USER, identity_query
from tests.unit.homeserver.servers import uvicorn_server

TIMEOUT = 10
PUBLIC_ORIGIN = "https://home.example.org"


def describe(fetch: SignedFetch, body: bytes) -> dict[str, Any]:
    return {
        "user_id": fetch.user_id,
        "instance_id": fetch.instance_id,
        "app_id": fetch.app_id,
        "body": body.decode(),
    }


async def me(request: Request) -> JSONResponse:
    return JSONResponse(describe(current_signed_fetch(request), await request.body()))


async def health(_request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def starlette_app(verifier: Any, **options: Any) -> Starlette:
    return Starlette(
        routes=[
            Route("/api/me", me, methods=["GET", "POST"]),
            Route("/healthz", health),
        ],
        middleware=[
            Middleware(
                SignedFetchMiddleware,
                verifier=verifier,
                exempt_paths={"/healthz"},
                max_body=1000,
                realm="notes",
                **options,
            )
        ],
    )


@pytest.fixture(scope="module", params=["sync", "async"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    kind = SignedFetchVerifier if request.param == "sync" else AsyncSignedFetchVerifier
    with uvicorn_server(starlette_app(kind({APP_KEY: APP_SECRET}))) as url:
        yield url


def auth(secret: str = APP_SECRET, *, body: bool = False) -> OAuth1:
    # force_include_body: sign a non-form body with oauth_body_hash.
    return OAuth1(APP_KEY, client_secret=secret, force_include_body=body)


def test_a_signed_get_reaches_the_route_with_the_identity(base: str) -> None:
    response = requests.get(f"{base}/api/me?{identity_query()}", auth=auth(), timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    expected = {"user_id": USER, "instance_id": INSTANCE, "app_id": "crm", "body": ""}
    assert response.json() == expected


def test_a_signed_json_post_keeps_its_body_for_the_route(base: str) -> None:
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


def test_an_unsigned_request_is_a_json_400(base: str) -> None:
    response = requests.get(f"{base}/api/me?{identity_query()}", timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_oauth_request"
    assert "no OAuth protocol parameters" in response.json()["message"]
    assert "WWW-Authenticate" not in response.headers


def test_a_wrong_secret_is_a_401_with_the_oauth_challenge(base: str) -> None:
    response = requests.get(
        f"{base}/api/me?{identity_query()}", auth=auth("wrong"), timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert response.headers["WWW-Authenticate"] == 'OAuth realm="notes"'
    assert response.headers["Content-Type"] == "application/json"


def test_a_replay_is_refused(base: str) -> None:
    prepared = requests.Request("GET", f"{base}/api/me?{identity_query()}", auth=auth()).prepare()
    with requests.Session() as session:
        assert session.send(prepared, timeout=TIMEOUT).status_code == 200
        again = session.send(prepared, timeout=TIMEOUT)
    assert again.status_code == 401
    assert again.json()["error"] == "replayed_nonce"


def test_a_signed_request_without_owner_is_a_400(base: str) -> None:
    response = requests.get(f"{base}/api/me?q=1", auth=auth(), timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["error"] == "missing_owner_id"


def test_exempt_paths_need_no_signature(base: str) -> None:
    assert requests.get(f"{base}/healthz", timeout=TIMEOUT).text == "ok"


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_a_413(base: str, chunked: bool) -> None:
    body: Any = b"x" * 2000
    if chunked:
        body = iter([b"x" * 600, b"x" * 600])
    response = requests.post(
        f"{base}/api/me?{identity_query()}",
        data=body,
        headers={"Content-Type": "text/plain"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_body_too_large"


def test_public_origin_behind_a_proxy() -> None:
    verifier = SignedFetchVerifier({APP_KEY: APP_SECRET})
    app = starlette_app(verifier, public_origin=PUBLIC_ORIGIN)
    with uvicorn_server(app) as url:
        # Signed for the public URL, delivered to the local one, as a proxy would.
        public = f"{PUBLIC_ORIGIN}/api/me?{identity_query()}"
        prepared = requests.Request("GET", public, auth=auth()).prepare()
        prepared.url = f"{url}/api/me?{identity_query()}"
        with requests.Session() as session:
            response = session.send(prepared, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        direct = requests.get(f"{url}/api/me?{identity_query()}", auth=auth(), timeout=TIMEOUT)
        assert direct.status_code == 401


def fastapi_app() -> FastAPI:
    verifier = AsyncSignedFetchVerifier({APP_KEY: APP_SECRET})
    app = FastAPI(exception_handlers=error_handlers("fastapi"))  # type: ignore[arg-type]
    signed = Depends(require_signed_fetch(verifier, max_body=1000))

    @app.post("/items")
    async def create(request: Request, fetch: SignedFetch = signed) -> dict[str, Any]:
        return describe(fetch, await request.body())

    @app.get("/items")
    async def read(fetch: SignedFetch = signed) -> dict[str, Any]:
        return describe(fetch, b"")

    return app


def test_fastapi_dependency_gives_the_identity_and_keeps_the_body() -> None:
    with uvicorn_server(fastapi_app()) as url:
        got = requests.get(f"{url}/items?{identity_query()}", auth=auth(), timeout=TIMEOUT)
        assert got.status_code == 200, got.text
        assert got.json()["user_id"] == USER
        posted = requests.post(
            f"{url}/items?{identity_query()}",
            data=b'{"a": 1}',
            headers={"Content-Type": "application/json"},
            auth=auth(body=True),
            timeout=TIMEOUT,
        )
        assert posted.status_code == 200, posted.text
        assert posted.json()["body"] == '{"a": 1}'
        refused = requests.get(f"{url}/items?{identity_query()}", auth=auth("x"), timeout=TIMEOUT)
        assert refused.status_code == 401
        assert refused.json() == {
            "error": "invalid_signature",
            "message": "the OAuth signature does not verify for this consumer key and request",
        }
        assert refused.headers["WWW-Authenticate"] == 'OAuth realm="fastapi"'
        large = requests.post(
            f"{url}/items?{identity_query()}",
            data=b'{"a": "' + b"x" * 5000 + b'"}',
            headers={"Content-Type": "application/json"},
            auth=auth(body=True),
            timeout=TIMEOUT,
        )
        assert large.status_code == 413


def test_current_signed_fetch_without_the_middleware_is_a_clear_error() -> None:
    app = Starlette(
        routes=[Route("/api/me", me)],
        exception_handlers=error_handlers(),  # type: ignore[arg-type]
    )
    with uvicorn_server(app) as url:
        response = requests.get(f"{url}/api/me", timeout=TIMEOUT)
    assert response.status_code == 400
    assert "not behind SignedFetchMiddleware" in response.json()["message"]

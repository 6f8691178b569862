"""``GET``/``POST /oauth/userinfo`` (OpenID Connect Core §5.3) served without FastAPI.

Apps call userinfo as often as devices call functions, so it skips the framework like the
token endpoint does; the FastAPI route of the same path remains for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.errors import AuthgateError, PayloadTooLarge, ServiceUnavailable
from authgate.http.deps import parse_bearer
from authgate.http.lean import lean_request, send_error, send_json
from authgate.http.middleware import ClientGone, read_bounded
from authgate.http.oauth_forms import MAX_FORM_BYTES
from authgate.http.services import Services

USERINFO_PATH = "/oauth/userinfo"


class LeanUserinfoEndpoint:
    """Serves userinfo directly; passes every other request on."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services]) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != USERINFO_PATH
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return
        request = lean_request(scope)
        try:
            if scope["method"] == "POST" and await read_bounded(receive, MAX_FORM_BYTES) is None:
                raise PayloadTooLarge(f"the body must be at most {MAX_FORM_BYTES} bytes")
            provider = self.services().provider
            if provider is None:
                raise ServiceUnavailable("the OAuth provider is not available on this server")
            claims = await provider.access.verify_current(parse_bearer(request.authorization))
            await send_json(send, 200, await provider.userinfo(claims))
        except AuthgateError as error:
            await send_error(send, error)
        except ClientGone:
            return  # nobody to answer

"""``POST /v1/solutions/{solution}/functions/{function}:call`` on a lean ASGI path.

A pass-through function call does little work of its own, so FastAPI's routing, dependency
solving and response validation would be a large part of its cost. :class:`LeanCallEndpoint`
serves the route directly with the same logic as the FastAPI route (which remains, for the
OpenAPI document): the body is checked as strictly, the bearer token is authenticated by
:func:`authgate.http.deps.authenticate`, and errors use the one error mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from authgate.errors import AuthgateError, NotFound, PayloadTooLarge, ValidationFailed
from authgate.functions.call import CallResult
from authgate.http.deps import Caller, authenticate, require_live_session, require_user
from authgate.http.lean import lean_request, send_error, send_json
from authgate.http.middleware import CALL_BODY_BYTES, ClientGone, read_bounded
from authgate.http.services import Services

CALL_PREFIX = "/v1/solutions/"
CALL_SUFFIX = ":call"
CALL_ROUTE = "/v1/solutions/{solution}/functions/{function}:call"


def call_target(path: str) -> tuple[str, str] | None:
    """``(solution, function)`` when ``path`` is the call route, else None."""
    if not (path.startswith(CALL_PREFIX) and path.endswith(CALL_SUFFIX)):
        return None
    parts = path[len(CALL_PREFIX) : -len(CALL_SUFFIX)].split("/")
    if len(parts) != 3 or parts[1] != "functions" or not parts[0] or not parts[2]:
        return None
    return parts[0], parts[2]


def call_parameters(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The ``parameters`` of a call body: ``{"parameters": {...}}``, nothing else."""
    if content_type is not None and not content_type.lower().startswith("application/json"):
        raise ValidationFailed("the body must be JSON (Content-Type: application/json)")
    if not body.strip():
        return {}
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValidationFailed("the request is invalid: body: the body is not valid JSON") from None
    if not isinstance(document, dict):
        raise ValidationFailed('the body must be an object: {"parameters": {...}}')
    unknown = sorted(set(document) - {"parameters"})
    if unknown:
        raise ValidationFailed(
            f"the request is invalid: {unknown[0][:64]}: extra fields are not permitted; "
            'send {"parameters": {...}}'
        )
    parameters = document.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ValidationFailed("the request is invalid: parameters: must be an object")
    return parameters


async def run_call(
    services: Services, caller: Caller, target: tuple[str, str], parameters: dict[str, Any]
) -> CallResult:
    """The call, with the caller's session checked in the call's own lookup."""
    solution, function = target
    session_id = caller.claims.session_id
    try:
        return await services.calls.call(
            caller.claims.org_id, solution, function, parameters, caller.actor,
            session_id=session_id,
        )  # fmt: skip
    except NotFound:
        # No solution to look the session up with: an ended session still answers 401.
        await require_live_session(services, session_id)
        raise


class LeanCallEndpoint:
    """Serves function calls directly; passes every other request on."""

    def __init__(self, app: ASGIApp, services: Callable[[], Services]) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = None
        if scope["type"] == "http" and scope["method"] == "POST":
            target = call_target(scope["path"])
        if target is None:
            await self.app(scope, receive, send)
            return
        scope["authgate.route"] = CALL_ROUTE  # the metrics label
        request = lean_request(scope)
        try:
            body = await read_bounded(receive, CALL_BODY_BYTES)
            if body is None:
                raise PayloadTooLarge(f"the request body must be at most {CALL_BODY_BYTES} bytes")
            services = self.services()
            caller = require_user(
                await authenticate(services, request.authorization, request.ip, check_session=False)
            )
            parameters = call_parameters(body, request.content_type)
            result = await run_call(services, caller, target, parameters)
            payload = {"records": result.records, "output": result.output, "pages": result.pages}
            await send_json(send, 200, payload)
        except AuthgateError as error:
            await send_error(send, error)
        except ClientGone:
            return  # nobody to answer

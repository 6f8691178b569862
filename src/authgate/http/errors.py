"""The one place where errors become responses.

authgate errors: ``{"error": {"code", "message", "details"}}`` with the class's status; a
failed function call: ``{"error": {"code", "status", "title", "description", "details"}}``.
OAuth endpoints: RFC 6749 §5.2 ``{"error", "error_description"}``. Request validation:
422 ``validation_failed`` naming each field. Anything unexpected: a bare 500 whose body
holds no detail (the log has the traceback, never a request body).
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from authgate.errors import AuthgateError, InsufficientScope, OAuthError, TooManyRequests
from authgate.functions.errors import FunctionCallFailed
from authgate.signedfetch.errors import InvalidSignature, ReplayedNonce

log = structlog.get_logger("authgate.http")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def error_body(error: AuthgateError) -> dict[str, Any]:
    """The JSON body of an authgate error."""
    if isinstance(error, OAuthError):
        return {"error": error.code, "error_description": error.message}
    if isinstance(error, FunctionCallFailed):
        # The shape of FUNCTIONS.md ("What a call returns"), with the stable code beside it.
        failed: dict[str, Any] = {"code": error.code, "status": error.status, "title": error.title}
        if error.description is not None:
            failed["description"] = error.description
        if error.call_details is not None:
            failed["details"] = error.call_details
        return {"error": failed}
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    return {"error": body}


def error_headers(error: AuthgateError) -> dict[str, str]:
    """Headers an error response needs (RFC 6750 §3, RFC 6585 §4)."""
    headers = dict(NO_STORE)
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        if isinstance(error, InvalidSignature | ReplayedNonce):
            headers["WWW-Authenticate"] = f'OAuth realm="authgate", error="{error.code}"'
        elif isinstance(error, OAuthError):
            headers["WWW-Authenticate"] = 'Basic realm="authgate"'
        else:
            headers["WWW-Authenticate"] = f'Bearer realm="authgate", error="{error.code}"'
    elif isinstance(error, InsufficientScope):
        headers["WWW-Authenticate"] = f'Bearer realm="authgate", error="{error.code}"'
    return headers


def error_response(error: AuthgateError) -> JSONResponse:
    """The response for an authgate error."""
    return JSONResponse(error_body(error), status_code=error.status, headers=error_headers(error))


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    fields = []
    for item in exc.errors():
        if item.get("type") == "json_invalid":
            fields.append({"field": "body", "problem": "the body is not valid JSON"})
            continue
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        fields.append({"field": location or "body", "problem": str(item.get("msg", "invalid"))})
    summary = "; ".join(f"{f['field']}: {f['problem']}" for f in fields[:5])
    return f"the request is invalid: {summary}", fields


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on an application."""

    async def on_authgate_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AuthgateError)
        if exc.status >= 500:
            log.error("request_failed", code=exc.code, error=exc.message)
        return error_response(exc)

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        message, fields = _validation_message(exc)
        body = {
            "error": {
                "code": "validation_failed",
                "message": message,
                "details": {"fields": fields},
            }
        }
        return JSONResponse(body, status_code=422, headers=NO_STORE)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {404: "not_found", 405: "method_not_allowed", 400: "invalid_request"}
        body = {
            "error": {"code": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)}
        }
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error_type=type(exc).__name__)
        body = {"error": {"code": "internal_error", "message": "internal error"}}
        return JSONResponse(body, status_code=500)

    app.add_exception_handler(AuthgateError, on_authgate_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)

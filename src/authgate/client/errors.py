"""What the device client raises: the server's errors as it sent them, and its own.

Every error is an :class:`authgate.errors.AuthgateError` with a stable ``code``; an error the
server answered keeps the server's code and status, so a caller tells ``invalid_token`` from
``not_found`` the same way whether it talks to the SDK or to the HTTP API. A failed function
call is a :class:`authgate.functions.errors.FunctionCallFailed` wherever it ran, in the cloud
or on the device. Messages never hold a token, a credential or a payload.
"""

from __future__ import annotations

from typing import Any

from authgate.errors import AuthgateError, Unauthenticated
from authgate.functions.errors import UpstreamError


class ServerError(AuthgateError):
    """An error the server answered; ``code`` and ``status`` are the server's."""

    def __init__(
        self, code: str, status: int, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.code = code  # type: ignore[misc]  # per instance: the server's code
        self.status = status  # type: ignore[misc]


class ServerUnreachable(AuthgateError):
    """The server could not be reached (offline, wrong address, TLS failure)."""

    code = "server_unreachable"
    status = 503


class SignInRequired(Unauthenticated):
    """No session is stored, or the server ended it: sign in again."""

    code = "sign_in_required"


class NotSynced(AuthgateError):
    """The solution (or a credential its local functions need) is not on this device yet."""

    code = "not_synced"
    status = 409


class LocalDataError(AuthgateError):
    """A local table name, row or query is not usable."""

    code = "local_data_invalid"
    status = 400


class SignInFailed(AuthgateError):
    """A browser or device-code sign-in did not complete (refused, expired, mismatched)."""

    code = "sign_in_failed"
    status = 400


class SecretStoreError(AuthgateError):
    """The keychain or the encrypted file store could not be read or written."""

    code = "secret_store_error"
    status = 500


# --- the device's own upstream errors (the codes are those of the server's egress client) ---


class DeviceUpstreamTimeout(UpstreamError):
    """The upstream did not answer within the request's time bound."""

    code = "upstream_timeout"
    status = 504


class DeviceUpstreamTooLarge(UpstreamError):
    """The upstream's body is larger than the request's size bound."""

    code = "upstream_response_too_large"
    status = 502


class DeviceTooManyRedirects(UpstreamError):
    """The upstream redirected more often than allowed."""

    code = "upstream_too_many_redirects"
    status = 502


class DeviceHostNotAllowed(UpstreamError):
    """A request or redirect would take a credential to a host it is not bound to."""

    code = "egress_host_not_allowed"
    status = 403


class DeviceUpstreamUnreachable(UpstreamError):
    """The upstream could not be reached, or broke the protocol."""

    code = "upstream_unreachable"
    status = 502


class DeviceMalformedResponse(UpstreamError):
    """The upstream broke HTTP: a redirect to a URL that does not parse, say."""

    code = "upstream_malformed_response"
    status = 502


def error_from_body(status: int, body: Any) -> AuthgateError:
    """The error a server response describes (authgate, function-call or RFC 6749 form)."""
    from authgate.functions.errors import FunctionCallFailed

    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str):  # RFC 6749 §5.2
            return ServerError(error, status, str(body.get("error_description", error)))
        if isinstance(error, dict):
            code = str(error.get("code", "error"))
            if "title" in error:
                failed = FunctionCallFailed(
                    int(error.get("status", status)),
                    str(error["title"]),
                    error.get("description"),
                    error.get("details"),
                )
                failed.code = code  # type: ignore[misc]  # the server's own code
                return failed
            details = error.get("details")
            return ServerError(
                code,
                status,
                str(error.get("message", code)),
                details if isinstance(details, dict) else None,
            )
    return ServerError("http_error", status, f"the server answered HTTP {status}")

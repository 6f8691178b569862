"""The one exception hierarchy of authgate.

Every error carries a stable machine-readable ``code`` and the HTTP ``status`` it maps to.
Messages name what was wrong and how to fix it; they never contain a secret, a token, a
password or a proxied payload. ``authgate.http.errors`` is the one place that turns these
into responses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class AuthgateError(Exception):
    """Base of every error authgate raises on purpose."""

    code: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BadRequest(AuthgateError):
    """The request is malformed or a value is out of range."""

    code = "invalid_request"
    status = 400


class ValidationFailed(BadRequest):
    """A field of the request failed validation."""

    code = "validation_failed"
    status = 422


class WeakPassword(ValidationFailed):
    """The password breaks the password policy."""

    code = "weak_password"


class OrganizationRequired(BadRequest):
    """The user belongs to several organizations; the request must name one."""

    code = "organization_required"


class PayloadTooLarge(AuthgateError):
    """The request body is larger than this endpoint accepts."""

    code = "payload_too_large"
    status = 413


class Unauthenticated(AuthgateError):
    """No valid credentials were presented."""

    code = "unauthenticated"
    status = 401


class InvalidCredentials(Unauthenticated):
    """Sign-in failed; deliberately says nothing about which part was wrong."""

    code = "invalid_credentials"


class Forbidden(AuthgateError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403


class NoActiveMembership(Forbidden):
    """The user has no active membership in the organization (none, pending, or DENY)."""

    code = "no_active_membership"


class NotFound(AuthgateError):
    """The resource does not exist, or the caller may not know that it exists."""

    code = "not_found"
    status = 404


class Conflict(AuthgateError):
    """The request conflicts with the current state (a duplicate, a used token)."""

    code = "conflict"
    status = 409


class Gone(AuthgateError):
    """A link or token that has expired, was used, or was revoked."""

    code = "gone"
    status = 410


class TooManyRequests(AuthgateError):
    """The caller is throttled; ``retry_after`` says for how many seconds."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, details={"retry_after": retry_after})
        self.retry_after = retry_after


class OAuthError(AuthgateError):
    """An error of an OAuth 2.0 endpoint, rendered in RFC 6749 §5.2 form."""

    code = "invalid_request"
    status = 400


class InvalidGrant(OAuthError):
    """RFC 6749 §5.2 ``invalid_grant``: the grant is invalid, expired, revoked or reused."""

    code = "invalid_grant"


class InvalidClient(OAuthError):
    """RFC 6749 §5.2 ``invalid_client``: client authentication failed."""

    code = "invalid_client"
    status = 401


class UnsupportedGrantType(OAuthError):
    """RFC 6749 §5.2 ``unsupported_grant_type``."""

    code = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """RFC 6749 §5.2 ``invalid_scope``: broader than granted, or unknown."""

    code = "invalid_scope"


class InvalidToken(Unauthenticated):
    """RFC 6750 §3.1 ``invalid_token``: the bearer token is malformed, expired or revoked."""

    code = "invalid_token"


class InsufficientScope(InvalidToken):
    """RFC 6750 §3.1: the token lacks the scope the resource needs."""

    code = "insufficient_scope"
    status = 403


class ServiceUnavailable(AuthgateError):
    """A dependency (the database, Redis) cannot be reached."""

    code = "service_unavailable"
    status = 503


class ConfigurationError(AuthgateError):
    """A setting is invalid; raised at start-up only."""

    code = "configuration_error"
    status = 500

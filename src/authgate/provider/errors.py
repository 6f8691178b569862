"""The provider's errors: the authorization endpoint's codes (RFC 6749 §4.1.2.1,
OpenID Connect Core §3.1.2.6, RFC 9126 §2.3) and the page-only redirect URI error."""

from __future__ import annotations

from authgate.errors import BadRequest, OAuthError


class InvalidRedirect(OAuthError):
    """The client or redirect URI cannot be trusted: shown on an error page, never
    redirected to (RFC 6749 §4.1.2.1)."""

    code = "invalid_redirect_uri"


class InvalidAuthorizationRequest(OAuthError):
    """A malformed authorization request, answered at the client's redirect URI."""

    code = "invalid_request"


class UnsupportedResponseType(OAuthError):
    """Only ``response_type=code`` is offered (no implicit or hybrid flows)."""

    code = "unsupported_response_type"


class UnauthorizedClient(OAuthError):
    """The client is not allowed this grant or response type."""

    code = "unauthorized_client"


class AccessDenied(OAuthError):
    """The person declined, or may not use this app."""

    code = "access_denied"
    status = 403


class LoginRequired(OAuthError):
    """``prompt=none`` and nobody is signed in (or ``max_age`` has passed)."""

    code = "login_required"


class ConsentRequired(OAuthError):
    """``prompt=none`` and the person has not consented to these scopes."""

    code = "consent_required"


class InvalidRequestUri(OAuthError):
    """A ``request_uri`` that is unknown, expired, used or another client's (RFC 9126)."""

    code = "invalid_request_uri"


class RequestNotSupported(OAuthError):
    """Request objects (``request``) are not supported (OpenID Connect Core §6)."""

    code = "request_not_supported"


class InvalidClientMetadata(OAuthError):
    """RFC 7591 §3.2.2: a registration with invalid metadata."""

    code = "invalid_client_metadata"


class InvalidRedirectUriMetadata(OAuthError):
    """RFC 7591 §3.2.2: a registration with an unacceptable redirect URI."""

    code = "invalid_redirect_uri"


class StaleAuthorization(BadRequest):
    """A sign-in or consent form whose request expired, was altered, or belongs to
    another browser session: the person starts again from the app."""

    code = "authorization_request_expired"

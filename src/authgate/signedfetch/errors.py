"""Errors of OAuth 1.0a signed fetch.

A request that is malformed (missing or duplicated protocol parameters, an unsupported
signature method) is a 400 ``invalid_oauth_request``; a well-formed request whose signature,
body hash or timestamp does not hold is a 401 ``invalid_signature``. Messages name the
parameter at fault and never carry a secret, a signature value or any part of the body.
The gateway adds its own: a replayed nonce, an unknown app, a container of another
organization, a missing owner, a home server that is not registered.
"""

from __future__ import annotations

from authgate.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)


class InvalidOAuthRequest(BadRequest):
    """The OAuth 1.0a parameters of the request are malformed, missing or unsupported."""

    code = "invalid_oauth_request"


class InvalidSignature(Unauthenticated):
    """The request is well formed but its signature, body hash or timestamp does not hold."""

    code = "invalid_signature"


class ReplayedNonce(Unauthenticated):
    """The (consumer key, timestamp, nonce) was already used: the request is a replay."""

    code = "replayed_nonce"


class InvalidRegistration(ValidationFailed):
    """A container or app submitted by an administrator is not acceptable."""

    code = "invalid_registration"


class UnknownApp(NotFound):
    """No app is registered under the id in the gateway path."""

    code = "unknown_app"


class ContainerNotAllowed(Forbidden):
    """The container verified, but may not reach this app (it is another organization's)."""

    code = "container_not_allowed"


class MissingOwner(BadRequest):
    """The container's signed request does not say which of its users it acts for."""

    code = "missing_owner"


class HomeServerNotRegistered(BadRequest):
    """The request names a home server that is not one of the app's registered base URLs."""

    code = "home_server_not_registered"

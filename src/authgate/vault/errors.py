"""Errors of the vault. Messages name the credential, never any part of its value."""

from __future__ import annotations

from urllib.parse import quote

from authgate.errors import BadRequest, Forbidden, ServiceUnavailable, ValidationFailed


class InvalidCredential(ValidationFailed):
    """A credential's name, kind, fields or allowed hosts are not acceptable."""

    code = "invalid_credential"


class CredentialNotUsable(BadRequest):
    """The credential exists but cannot be used this way (an SQL connection over HTTP)."""

    code = "credential_not_usable"


class ConsentRequired(Forbidden):
    """The signed-in user has no active connection for this OAuth credential."""

    code = "consent_required"

    def __init__(self, name: str, solution: str | None = None) -> None:
        # A solution-scoped credential is found only when the path names its solution.
        path = f"/v1/connections/{name}/authorize"
        if solution is not None:
            path += "?solution=" + quote(solution, safe="")
        super().__init__(
            f"credential '{name}' needs the user's consent: open {path} to connect the "
            "account, then call again",
            details={"authorize": path},
        )


class NotRefreshable(BadRequest):
    """Only OAuth credentials can be refreshed after an upstream rejected them."""

    code = "credential_not_refreshable"


class InvalidAuthorizationState(BadRequest):
    """The authorization's state is unknown, used, expired or another user's."""

    code = "invalid_state"


class TokenRequestRejected(BadRequest):
    """The provider refused a code or refresh token (RFC 6749 ``invalid_grant`` and kin)."""

    code = "oauth_token_rejected"


class RefreshInProgress(ServiceUnavailable):
    """Another process is refreshing this connection and did not finish in time."""

    code = "refresh_in_progress"

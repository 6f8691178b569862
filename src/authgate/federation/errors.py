"""Errors of SSO federation. Messages name the check that failed and the fix; they never
hold a client secret, a code, a token, a nonce or the IdP's free text."""

from __future__ import annotations

from authgate.errors import (
    AuthgateError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)


class InvalidIdpConfig(ValidationFailed):
    """An IdP configuration submitted by an administrator is not acceptable."""

    code = "invalid_idp_config"


class UnknownIdp(NotFound):
    """No IdP with this id or name (or it belongs to an organization the caller cannot see)."""

    code = "unknown_idp"


class IdpUnavailable(AuthgateError):
    """The IdP's metadata, keys or token endpoint could not be used: unreachable, a 5xx, a
    redirect, or a malformed answer. Not the user's doing; try again or fix the issuer."""

    code = "idp_unavailable"
    status = 502


class IdpClientRejected(AuthgateError):
    """The IdP refused authgate's client (``invalid_client``): an administrator must fix the
    configuration's client id or client secret."""

    code = "idp_client_rejected"
    status = 502


class InvalidIdToken(Unauthenticated):
    """The IdP's ID token failed a check (signature, issuer, audience, expiry, nonce, tenant)."""

    code = "invalid_id_token"


class InvalidSsoState(BadRequest):
    """The login this answer belongs to is unknown, used, expired, or another IdP's."""

    code = "invalid_sso_state"


class SsoLoginFailed(BadRequest):
    """The IdP ended the login with an error, or refused the authorization code."""

    code = "sso_login_failed"


class InvalidRedirectUri(BadRequest):
    """The app's redirect URI is not one registered for the client (exact match)."""

    code = "invalid_redirect_uri"


class InvalidLoginRequest(BadRequest):
    """A login request is malformed: PKCE missing or ``plain``, a bad state, an unknown client."""

    code = "invalid_sso_request"


class SsoDenied(Forbidden):
    """The IdP vouched for the person, but the organization does not admit them."""

    code = "sso_access_denied"


class SsoNotInvited(SsoDenied):
    """The organization admits invited people only, and this one has no open invite."""

    code = "sso_not_invited"


class SsoAccessRequested(SsoDenied):
    """A request to join was filed (or was already pending): an admin must approve it."""

    code = "sso_access_requested"


class SsoDomainNotAllowed(SsoDenied):
    """The person's email domain is not one the IdP serves for this organization."""

    code = "sso_domain_not_allowed"


class SsoAccountExists(Conflict):
    """An authgate account already has this email; the IdP's claim alone never links to it."""

    code = "sso_account_exists"


class SsoIdentityTaken(Conflict):
    """This IdP account is already linked to another authgate user."""

    code = "sso_identity_taken"


class SsoRequired(Forbidden):
    """The organization signs its members in through its IdP only."""

    code = "sso_required"

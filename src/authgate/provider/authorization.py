"""The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core §3.1.2.1).

Checked in two steps, as RFC 6749 §4.1.2.1 requires: first the client and its redirect URI
(:func:`redirect_target`; a failure is shown on a page, never redirected), then everything
else (:func:`check_request`; a failure is answered at the redirect URI). Only
``response_type=code`` is offered: no implicit or hybrid flows. PKCE S256 is required of
public clients and accepted from confidential ones; ``plain`` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from authgate.errors import InvalidScope
from authgate.provider.errors import (
    InvalidAuthorizationRequest,
    RequestNotSupported,
    UnauthorizedClient,
    UnsupportedResponseType,
)
from authgate.provider.models import GrantType, OAuthClient
from authgate.provider.redirect_uris import match_redirect_uri
from authgate.tokens.scopes import format_scope, parse_scope

PROMPTS = frozenset({"none", "login", "consent", "select_account"})
MAX_STATE_CHARS = 2048
MAX_NONCE_CHARS = 512
MAX_HINT_CHARS = 254
MAX_AGE_LIMIT = 10**9
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A checked authorization request."""

    client_id: str
    redirect_uri: str
    """Where the answer goes (the registered URI when the request named none)."""
    redirect_uri_given: bool
    """Whether the request named it: then the token request must repeat it (§4.1.3)."""
    scope: str
    state: str | None
    nonce: str | None
    code_challenge: str | None
    prompt: tuple[str, ...]
    max_age: int | None
    login_hint: str | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (to seal into a page, or store for RFC 9126)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuthorizationRequest:
        """The inverse of :meth:`as_dict` (of a value authgate itself sealed or stored)."""
        values = dict(data)
        values["prompt"] = tuple(values.get("prompt", ()))
        return cls(**values)


def redirect_target(client: OAuthClient, params: Mapping[str, str]) -> str:
    """The registered redirect URI this request answers to (:class:`InvalidRedirect` if none)."""
    return match_redirect_uri(client, params.get("redirect_uri"))


def check_request(
    client: OAuthClient, params: Mapping[str, str], redirect_uri: str
) -> AuthorizationRequest:
    """Every parameter but the client and redirect URI (already checked by the caller)."""
    if "request" in params:
        raise RequestNotSupported("request objects are not supported; send plain parameters")
    response_type = params.get("response_type")
    if not response_type:
        raise InvalidAuthorizationRequest("response_type is required; use response_type=code")
    if response_type != "code":
        raise UnsupportedResponseType(
            "only response_type=code is supported (no implicit or hybrid flows)"
        )
    if not client.allows(GrantType.AUTHORIZATION_CODE):
        raise UnauthorizedClient("this client is not allowed the authorization code grant")
    response_mode = params.get("response_mode")
    if response_mode not in (None, "query"):
        raise InvalidAuthorizationRequest("response_mode must be query (or absent)")
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_uri_given=bool(params.get("redirect_uri")),
        scope=_scope(client, params.get("scope")),
        state=_text(params, "state", MAX_STATE_CHARS),
        nonce=_text(params, "nonce", MAX_NONCE_CHARS),
        code_challenge=_challenge(client, params),
        prompt=_prompt(params.get("prompt")),
        max_age=_max_age(params.get("max_age")),
        login_hint=_hint(params.get("login_hint")),
    )


def _scope(client: OAuthClient, raw: str | None) -> str:
    requested = parse_scope(raw)
    if not requested:
        raise InvalidScope("scope is required; ask for openid and what else the app needs")
    refused = requested - set(client.scopes)
    if refused:
        shown = ", ".join(sorted(refused))[:200]
        raise InvalidScope(f"this client may not ask for: {shown}")
    return format_scope(set(requested))


def _text(params: Mapping[str, str], name: str, limit: int) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if len(value) > limit or not value.isprintable():
        raise InvalidAuthorizationRequest(f"{name} must be at most {limit} printable characters")
    return value


def _challenge(client: OAuthClient, params: Mapping[str, str]) -> str | None:
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise InvalidAuthorizationRequest(
                "code_challenge_method was sent without code_challenge"
            )
        if client.is_public:
            raise InvalidAuthorizationRequest(
                "PKCE is required for this client: send code_challenge with "
                "code_challenge_method=S256"
            )
        return None
    if method != "S256":
        raise InvalidAuthorizationRequest(
            "code_challenge_method must be S256 (plain is not accepted)"
        )
    if not _CHALLENGE.fullmatch(challenge):
        raise InvalidAuthorizationRequest(
            "code_challenge must be the 43-character base64url SHA-256 of the verifier"
        )
    return challenge


def _prompt(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    values = raw.split()
    unknown = [value for value in values if value not in PROMPTS]
    if unknown:
        raise InvalidAuthorizationRequest(
            f"prompt '{unknown[0][:40]}' is not supported; "
            "use none, login, consent or select_account"
        )
    if "none" in values and len(values) > 1:
        raise InvalidAuthorizationRequest("prompt=none cannot be combined with other values")
    return tuple(dict.fromkeys(values))


def _max_age(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_AGE_LIMIT:
        raise InvalidAuthorizationRequest("max_age must be a whole number of seconds")
    return int(raw)


def _hint(raw: str | None) -> str | None:
    # A hint only pre-fills the sign-in page: an unusable one is dropped, not an error.
    if raw is None or len(raw) > MAX_HINT_CHARS or not raw.isprintable():
        return None
    return raw.strip() or None

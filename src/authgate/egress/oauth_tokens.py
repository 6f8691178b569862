"""A provider's OAuth 2.0 token endpoint, reached through the SSRF-safe egress client.

Implements :class:`authgate.vault.ports.OAuthTokenClient`:

* the authorization code grant's token request (RFC 6749 §4.1.3), with the PKCE
  ``code_verifier`` (RFC 7636 §4.5) when the authorization sent a challenge;
* refreshing an access token (RFC 6749 §6).

Both are a form POST to the configured ``tokenUrl``. The client authenticates as RFC 6749
§2.3.1 says: its id and secret form-urlencoded, then in HTTP Basic (``client_secret_basic``,
the default) or in the body (``client_secret_post``). The request may reach only the token
URL's own host and follows no redirect, so the client secret goes nowhere else.

The answer is read within a size and time bound. A §5.1 success becomes a
:class:`TokenGrant`; a §5.2 error (400/401) becomes :class:`TokenRequestRejected` (the user
must consent again), except ``invalid_client``, which no consent can fix; anything else (an
unreachable host, a 5xx, a malformed answer) is an :class:`UpstreamError`. No message ever
holds a token, a code, the verifier, the client secret or the provider's free text.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote_plus, urlencode, urlsplit

from authgate.egress.errors import TooManyRedirects
from authgate.functions.errors import UpstreamError
from authgate.functions.ports import Upstream, UpstreamLimits, UpstreamRequest, UpstreamResponse
from authgate.vault.errors import TokenRequestRejected
from authgate.vault.models import OAuthClientConfig, TokenEndpointAuth, TokenGrant

MAX_RESPONSE_BYTES = 64 * 1024
TIMEOUT_SECONDS = 10.0
MAX_TOKEN_CHARS = 16 * 1024
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
_TOKEN = re.compile(r"[\x20-\x7e]+")
"""RFC 6749 Appendix A.12/A.17: a token is printable ASCII (VSCHAR)."""
_ERROR_CODE = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}")
"""RFC 6749 §5.2 ``error``: shown to the user, so bounded and without quote or backslash."""
_CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


class TokenEndpointFailed(UpstreamError):
    """The token endpoint could not be used: unreachable, a 5xx, a malformed answer.

    Not the user's doing: the connection stays as it is; try again later, or an
    administrator fixes the credential's ``tokenUrl``.
    """

    code = "oauth_token_endpoint_failed"
    status = 502


class TokenClientRejected(UpstreamError):
    """The provider refused authgate's client (``invalid_client``): an administrator must
    fix the credential's clientId or clientSecret; the user's consent is not the problem."""

    code = "oauth_client_rejected"
    status = 502


class EgressTokenClient:
    """Token requests to providers through the process's egress client."""

    def __init__(
        self,
        upstream: Upstream,
        *,
        max_bytes: int = MAX_RESPONSE_BYTES,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._upstream = upstream
        # No redirect: a token endpoint answers itself, and a redirected POST would carry
        # the client secret (in the body for client_secret_post) to wherever it points.
        self._limits = UpstreamLimits(max_bytes=max_bytes, timeout=timeout, max_redirects=0)

    async def exchange_code(
        self,
        client: OAuthClientConfig,
        client_secret: str,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
    ) -> TokenGrant:
        """RFC 6749 §4.1.3 (+ RFC 7636 §4.5): tokens for an authorization code."""
        form = [("grant_type", "authorization_code"), ("code", code)]
        form.append(("redirect_uri", redirect_uri))
        if code_verifier is not None:
            form.append(("code_verifier", code_verifier))
        return await self._request(client, client_secret, form, what="authorization code")

    async def refresh(
        self, client: OAuthClientConfig, client_secret: str, *, refresh_token: str
    ) -> TokenGrant:
        """RFC 6749 §6: fresh tokens for a refresh token (the old one is kept by the caller
        when the provider issues none)."""
        form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)]
        return await self._request(client, client_secret, form, what="refresh token")

    async def _request(
        self,
        client: OAuthClientConfig,
        client_secret: str,
        form: list[tuple[str, str]],
        *,
        what: str,
    ) -> TokenGrant:
        host = (urlsplit(client.token_url).hostname or "").lower()
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ]
        if client.token_auth is TokenEndpointAuth.CLIENT_SECRET_POST:
            form += [("client_id", client.client_id), ("client_secret", client_secret)]
        else:
            headers.append(("Authorization", basic_authorization(client.client_id, client_secret)))
        request = UpstreamRequest(
            method="POST",
            url=client.token_url,
            headers=tuple(headers),
            body=urlencode(form).encode("ascii"),
            sensitive_headers=frozenset({"authorization"}),
            allowed_hosts=frozenset({host}),
        )
        try:
            response = await self._upstream.send(request, self._limits)
        except TooManyRedirects:
            raise TokenEndpointFailed(
                f"the token endpoint at {host} answered with a redirect; set the credential's "
                "tokenUrl to the endpoint itself"
            ) from None
        return parse_token_response(response, host, what)


def basic_authorization(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: ``Basic`` of the form-urlencoded id and secret."""
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("ascii")).decode("ascii")


def parse_token_response(response: UpstreamResponse, host: str, what: str) -> TokenGrant:
    """The grant of an RFC 6749 §5.1 answer, or the error its §5.2 answer means."""
    status = response.status
    if status in (400, 401):
        error = _error_code(response.body)
        if error in _CLIENT_ERRORS or (error is None and status == 401):
            raise TokenClientRejected(
                f"the provider at {host} refused authgate's client ({error or status}); an "
                "administrator should check the credential's clientId and clientSecret"
            )
        raise TokenRequestRejected(
            f"the provider at {host} refused the {what} ({error or f'status {status}'}); "
            "connect the account again"
        )
    if status != 200:
        raise TokenEndpointFailed(
            f"the token endpoint at {host} answered status {status}; try again later"
        )
    document = _json_object(response.body)
    if document is None:
        raise TokenEndpointFailed(f"the token endpoint at {host} did not answer a JSON object")
    return _grant(document, host)


def _grant(document: dict[str, Any], host: str) -> TokenGrant:
    access_token = _token(document.get("access_token"))
    if access_token is None:
        raise TokenEndpointFailed(
            f"the token endpoint at {host} answered without a usable access_token"
        )
    token_type = document.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        # RFC 6749 §7.1: authgate sends tokens as RFC 6750 bearer tokens only.
        raise TokenEndpointFailed(
            f"the token endpoint at {host} issued a token type other than Bearer; "
            "authgate can send bearer tokens only"
        )
    refresh_token = document.get("refresh_token")
    if refresh_token is not None and _token(refresh_token) is None:
        raise TokenEndpointFailed(
            f"the token endpoint at {host} answered a malformed refresh_token"
        )
    scope = document.get("scope")
    if scope is not None and (not isinstance(scope, str) or len(scope) > 4096):
        raise TokenEndpointFailed(f"the token endpoint at {host} answered a malformed scope")
    return TokenGrant(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=_expires_in(document.get("expires_in"), host),
        scope=scope or None,
    )


def _token(value: object) -> str | None:
    if isinstance(value, str) and len(value) <= MAX_TOKEN_CHARS and _TOKEN.fullmatch(value):
        return value
    return None


def _expires_in(value: object, host: str) -> int | None:
    """RFC 6749 §5.1 ``expires_in`` seconds; some providers send it as a string."""
    if value is None:
        return None
    if isinstance(value, str) and value.isdecimal() and len(value) <= 12:
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TokenEndpointFailed(f"the token endpoint at {host} answered a malformed expires_in")
    return min(value, MAX_EXPIRES_IN)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _error_code(body: bytes) -> str | None:
    """The §5.2 ``error`` code if the body has a presentable one (never its description)."""
    document = _json_object(body)
    error = None if document is None else document.get("error")
    if isinstance(error, str) and _ERROR_CODE.fullmatch(error):
        return error
    return None

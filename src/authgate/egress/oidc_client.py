"""An IdP's HTTP endpoints for SSO, reached through the SSRF-safe egress client.

Implements :class:`authgate.federation.ports.IdpClient`:

* GET of a JSON document (OpenID Connect Discovery metadata, a JWK set), no redirect
  followed, bounded in bytes and time;
* the authorization code grant's token request (RFC 6749 §4.1.3, with the PKCE verifier of
  RFC 7636 §4.5), authenticating as :func:`basic_authorization` or in the body (§2.3.1). It
  may reach only the token endpoint's own host and follows no redirect, so the client secret
  goes nowhere else.

A §5.1 answer must hold an ``id_token`` (OpenID Connect Core §3.1.3.3). A §5.2 error
becomes :class:`SsoLoginFailed` (the code was refused: used, expired, another client's),
except ``invalid_client``, an administrator's to fix; anything else is
:class:`IdpUnavailable`. No message holds a code, the verifier, the secret, a token or the
IdP's free text.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

from authgate.egress.oauth_tokens import basic_authorization
from authgate.federation.errors import IdpClientRejected, IdpUnavailable, SsoLoginFailed
from authgate.federation.ports import TokenAnswer
from authgate.functions.errors import UpstreamError
from authgate.functions.ports import Upstream, UpstreamLimits, UpstreamRequest, UpstreamResponse

MAX_DOCUMENT_BYTES = 256 * 1024
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
TIMEOUT_SECONDS = 10.0
MAX_ID_TOKEN_CHARS = 16 * 1024
_CLIENT_ERRORS = frozenset({"invalid_client", "unauthorized_client"})


class EgressIdpClient:
    """IdP requests through the process's egress client."""

    def __init__(self, upstream: Upstream, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._upstream = upstream
        self._documents = UpstreamLimits(MAX_DOCUMENT_BYTES, timeout, max_redirects=0)
        self._tokens = UpstreamLimits(MAX_TOKEN_RESPONSE_BYTES, timeout, max_redirects=0)

    async def fetch_json(self, url: str, what: str) -> dict[str, Any]:
        """GET ``url``: the JSON object it answers with status 200."""
        host = _host(url)
        request = UpstreamRequest(
            "GET", url, (("Accept", "application/json"),), allowed_hosts=frozenset({host})
        )
        response = await self._send(request, self._documents, host, what)
        if response.status != 200:
            raise IdpUnavailable(
                f"the IdP's {what} at {host} answered status {response.status}; check the issuer"
            )
        document = _json_object(response.body)
        if document is None:
            raise IdpUnavailable(f"the IdP's {what} at {host} is not a JSON object")
        return document

    async def exchange_code(
        self,
        token_endpoint: str,
        *,
        client_id: str,
        client_secret: str,
        secret_in_body: bool,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
    ) -> TokenAnswer:
        """RFC 6749 §4.1.3: the ID token for an authorization code."""
        host = _host(token_endpoint)
        form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ]
        if code_verifier is not None:
            form.append(("code_verifier", code_verifier))
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ]
        if secret_in_body:
            form += [("client_id", client_id), ("client_secret", client_secret)]
        else:
            headers.append(("Authorization", basic_authorization(client_id, client_secret)))
        request = UpstreamRequest(
            method="POST",
            url=token_endpoint,
            headers=tuple(headers),
            body=urlencode(form).encode("ascii"),
            sensitive_headers=frozenset({"authorization"}),
            allowed_hosts=frozenset({host}),
        )
        response = await self._send(request, self._tokens, host, "token endpoint")
        return _token_answer(response, host)

    async def _send(
        self, request: UpstreamRequest, limits: UpstreamLimits, host: str, what: str
    ) -> UpstreamResponse:
        try:
            return await self._upstream.send(request, limits)
        except UpstreamError as exc:
            raise IdpUnavailable(
                f"the IdP's {what} at {host} could not be used: {exc.message}"
            ) from None


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _token_answer(response: UpstreamResponse, host: str) -> TokenAnswer:
    document = _json_object(response.body)
    if response.status in (400, 401):
        error = None if document is None else document.get("error")
        if error in _CLIENT_ERRORS or (error is None and response.status == 401):
            raise IdpClientRejected(
                f"the IdP at {host} refused authgate's client; an administrator should check "
                "the configuration's clientId and clientSecret"
            )
        shown = (
            error
            if isinstance(error, str) and error.isidentifier() and len(error) < 40
            else "refused"
        )
        raise SsoLoginFailed(
            f"the identity provider refused the sign-in's code ({shown}); start again"
        )
    if response.status != 200 or document is None:
        raise IdpUnavailable(
            f"the IdP's token endpoint at {host} answered status {response.status} without a "
            "usable JSON body; try again later"
        )
    id_token = document.get("id_token")
    if not isinstance(id_token, str) or not id_token or len(id_token) > MAX_ID_TOKEN_CHARS:
        raise IdpUnavailable(
            f"the IdP's token endpoint at {host} answered without an id_token; check that the "
            "scopes include 'openid'"
        )
    scope = document.get("scope")
    return TokenAnswer(id_token, scope if isinstance(scope, str) else None)

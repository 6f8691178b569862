"""The token endpoint's logic (RFC 6749 §3.2), independent of any web framework.

Grants: ``refresh_token`` (device sessions) and ``client_credentials`` (service clients).
The authorization-code, implicit and password grants are not offered here.
"""

from __future__ import annotations

from typing import Any

from authgate.errors import InvalidClient, OAuthError, UnsupportedGrantType
from authgate.http.oauth_forms import client_credentials, parse_form
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.tokens.device_authorization import GRANT_TYPE as DEVICE_CODE_GRANT
from authgate.tokens.sessions import DEVICE_CLIENT_ID

GRANT_TYPES = ("refresh_token", "client_credentials", DEVICE_CODE_GRANT)


async def token_request(
    services: Services,
    body: bytes,
    content_type: str | None,
    authorization: str | None,
    ip: str | None,
) -> dict[str, Any]:
    """The token response body for a request, or an :class:`OAuthError`."""
    form = parse_form(body, content_type)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("grant_type is required")
    credentials = client_credentials(form, authorization)
    if grant_type == "client_credentials":
        if not credentials.client_id or credentials.client_secret is None:
            raise InvalidClient("client_credentials needs client_id and client_secret")
        tokens = await services.clients.client_credentials(
            credentials.client_id, credentials.client_secret, form.get("scope")
        )
        return tokens.as_json()
    if grant_type == "refresh_token":
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            raise OAuthError("refresh_token is required")
        if credentials.client_secret is not None:
            raise InvalidClient("device sessions are public clients: send no client secret")
        tokens = await services.sessions.refresh(
            refresh_token,
            credentials.client_id or DEVICE_CLIENT_ID,
            form.get("scope"),
            Actor(None, ip),
        )
        return tokens.as_json()
    if grant_type == DEVICE_CODE_GRANT and services.device_authorizations is not None:
        # RFC 8628 §3.4: polled by a public client until the person decided.
        device_code = form.get("device_code")
        if not device_code:
            raise OAuthError("device_code is required")
        if credentials.client_secret is not None:
            raise InvalidClient("the device authorization grant is for public clients: no secret")
        tokens = await services.device_authorizations.redeem(
            device_code, credentials.client_id or DEVICE_CLIENT_ID, Actor(None, ip)
        )
        return tokens.as_json()
    raise UnsupportedGrantType(
        f"grant_type '{grant_type[:40]}' is not supported; use one of {', '.join(GRANT_TYPES)}"
    )

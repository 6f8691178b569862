"""The token endpoint's logic (RFC 6749 §3.2), independent of any web framework.

Grants: ``authorization_code`` (registered apps, RFC 6749 §4.1.3 with PKCE),
``refresh_token`` (device sessions and apps' sessions), ``client_credentials`` (service
clients and apps allowed it) and the device code (RFC 8628). Which client is asking decides
the path: ``svc_…`` ids are service clients, the device client's id (or none) is authgate's
own device client, and any other id is a registered app, which authenticates as it
registered (a secret for confidential apps, none for public ones). The implicit and password
grants are not offered here.
"""

from __future__ import annotations

from typing import Any

from authgate.errors import InvalidClient, OAuthError, UnsupportedGrantType
from authgate.http.oauth_forms import ClientCredentials, client_credentials, parse_form
from authgate.http.services import Services
from authgate.identity.deps import Actor
from authgate.provider.errors import UnauthorizedClient
from authgate.provider.models import GrantType, OAuthClient
from authgate.tokens.clients import CLIENT_ID_PREFIX
from authgate.tokens.device_authorization import GRANT_TYPE as DEVICE_CODE_GRANT
from authgate.tokens.sessions import DEVICE_CLIENT_ID

GRANT_TYPES = (
    "authorization_code",
    "refresh_token",
    "client_credentials",
    DEVICE_CODE_GRANT,
)


def is_app_client(client_id: str | None) -> bool:
    """Whether the id names a registered app (not the device client or a service client)."""
    return (
        client_id is not None
        and client_id != DEVICE_CLIENT_ID
        and not client_id.startswith(CLIENT_ID_PREFIX)
    )


def _is_app(services: Services, client_id: str | None) -> bool:
    return services.provider is not None and is_app_client(client_id)


async def _app(services: Services, credentials: ClientCredentials, grant: GrantType) -> OAuthClient:
    assert services.provider is not None
    client = await services.provider.clients.authenticate(
        credentials.client_id, credentials.client_secret
    )
    if not client.allows(grant):
        raise UnauthorizedClient(f"this client is not allowed the {grant.value} grant")
    return client


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
        if _is_app(services, credentials.client_id):
            assert services.provider is not None
            app = await _app(services, credentials, GrantType.CLIENT_CREDENTIALS)
            return (await services.provider.client_credentials(app, form.get("scope"))).as_json()
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
        if _is_app(services, credentials.client_id):
            client_id = (await _app(services, credentials, GrantType.REFRESH_TOKEN)).client_id
        elif credentials.client_secret is not None:
            raise InvalidClient("device sessions are public clients: send no client secret")
        else:
            client_id = credentials.client_id or DEVICE_CLIENT_ID
        tokens = await services.sessions.refresh(
            refresh_token, client_id, form.get("scope"), Actor(None, ip)
        )
        return tokens.as_json()
    if grant_type == "authorization_code" and services.provider is not None:
        app = await _app(services, credentials, GrantType.AUTHORIZATION_CODE)
        tokens = await services.provider.codes.exchange(
            app,
            form.get("code"),
            form.get("redirect_uri"),
            form.get("code_verifier"),
            Actor(None, ip),
        )
        return tokens.as_json()
    if grant_type == DEVICE_CODE_GRANT and services.device_authorizations is not None:
        # RFC 8628 §3.4: polled by the client until the person decided.
        device_code = form.get("device_code")
        if not device_code:
            raise OAuthError("device_code is required")
        if _is_app(services, credentials.client_id):
            client_id = (await _app(services, credentials, GrantType.DEVICE_CODE)).client_id
        elif credentials.client_secret is not None:
            raise InvalidClient("the device authorization grant is for public clients: no secret")
        else:
            client_id = credentials.client_id or DEVICE_CLIENT_ID
        tokens = await services.device_authorizations.redeem(
            device_code, client_id, Actor(None, ip)
        )
        return tokens.as_json()
    raise UnsupportedGrantType(
        f"grant_type '{grant_type[:40]}' is not supported; use one of {', '.join(GRANT_TYPES)}"
    )

"""OAuth 2.0 endpoints: token, revocation (RFC 7009), introspection (RFC 7662), JWKS,
and the metadata documents (RFC 8414, OpenID Connect Discovery 1.0 §3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from authgate.errors import InvalidClient, InvalidToken, OAuthError
from authgate.http.deps import ServicesDep, client_ip
from authgate.http.errors import NO_STORE
from authgate.http.oauth_forms import client_credentials, parse_form
from authgate.http.services import Services
from authgate.http.token_endpoint import GRANT_TYPES, token_request
from authgate.identity.deps import Actor
from authgate.tokens.sessions import DEVICE_CLIENT_ID

router = APIRouter(tags=["oauth"])

FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
    }
}


@router.post("/oauth/token", openapi_extra=FORM_BODY)
async def token(request: Request, services: ServicesDep) -> JSONResponse:
    """RFC 6749 §3.2: ``refresh_token`` and ``client_credentials`` grants."""
    body = await token_request(
        services,
        await request.body(),
        request.headers.get("content-type"),
        request.headers.get("authorization"),
        client_ip(request),
    )
    return JSONResponse(body, headers=NO_STORE)


@router.post("/oauth/revoke", openapi_extra=FORM_BODY)
async def revoke(request: Request, services: ServicesDep) -> Response:
    """RFC 7009: revoke a refresh token (its session) or an access token's session.

    Answers 200 whether or not the token was valid (§2.2); a token of another client is
    left alone.
    """
    form = parse_form(await request.body(), request.headers.get("content-type"))
    token_value = form.get("token")
    if not token_value:
        raise OAuthError("token is required")
    credentials = client_credentials(form, request.headers.get("authorization"))
    actor = Actor(None, client_ip(request))
    if credentials.client_secret is not None:
        client = await services.clients.authenticate(
            credentials.client_id or "", credentials.client_secret
        )
        client_id = client.client_id
    else:
        client_id = credentials.client_id or DEVICE_CLIENT_ID
    await services.sessions.revoke_refresh_token(token_value, client_id, actor)
    try:
        claims = await services.access.verify_current(token_value)
    except InvalidToken:
        claims = None
    if claims is not None and claims.session_id and claims.client_id == client_id:
        await services.sessions.end(claims.session_id, actor, "revoked")
    return Response(status_code=200, headers=NO_STORE)


@router.post("/oauth/introspect", openapi_extra=FORM_BODY)
async def introspect(request: Request, services: ServicesDep) -> JSONResponse:
    """RFC 7662: for an authenticated service client, about tokens of its organization."""
    form = parse_form(await request.body(), request.headers.get("content-type"))
    credentials = client_credentials(form, request.headers.get("authorization"))
    if not credentials.client_id or credentials.client_secret is None:
        raise InvalidClient("introspection needs a service client's credentials")
    caller = await services.clients.authenticate(credentials.client_id, credentials.client_secret)
    token_value = form.get("token")
    if not token_value:
        raise OAuthError("token is required")
    answer = await services.introspector.introspect(
        token_value, caller, form.get("token_type_hint")
    )
    return JSONResponse(answer or {"active": False}, headers=NO_STORE)


@router.get("/.well-known/jwks.json")
async def jwks(services: ServicesDep) -> JSONResponse:
    """The public keys that verify our tokens (RFC 7517 §5)."""
    return JSONResponse(services.keyring.jwks(), headers={"Cache-Control": "max-age=60"})


def metadata(services: Services) -> dict[str, Any]:
    """What RFC 8414 and OpenID Connect Discovery describe, limited to what is implemented."""
    issuer = services.settings.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "device_authorization_endpoint": f"{issuer}/oauth/device_authorization",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": [],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "token_endpoint_auth_signing_alg_values_supported": [],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "jti",
            "client_id",
            "scope",
            "org",
            "roles",
            "sid",
        ],
        "authgate_login_endpoint": f"{issuer}/v1/auth/login",
    }


@router.get("/.well-known/openid-configuration")
async def openid_configuration(services: ServicesDep) -> JSONResponse:
    """OpenID Connect Discovery 1.0 §3."""
    return JSONResponse(metadata(services))


@router.get("/.well-known/oauth-authorization-server")
async def oauth_metadata(services: ServicesDep) -> JSONResponse:
    """RFC 8414 §2."""
    return JSONResponse(metadata(services))

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
from authgate.http.token_endpoint import GRANT_TYPES, is_app_client, token_request
from authgate.identity.deps import Actor
from authgate.provider.authorization import PROMPTS
from authgate.provider.browser_sessions import ACR_VALUES
from authgate.provider.claims import supported_claims
from authgate.provider.id_tokens import ALGORITHMS as ID_TOKEN_ALGORITHMS
from authgate.tokens.introspection import Caller
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
    if services.provider is not None and is_app_client(credentials.client_id):
        app = await services.provider.clients.authenticate(
            credentials.client_id, credentials.client_secret
        )
        client_id = app.client_id
    elif credentials.client_secret is not None:
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
    """RFC 7662: for an authenticated service client, about tokens of its organization; for
    a confidential app, about the tokens issued to it."""
    form = parse_form(await request.body(), request.headers.get("content-type"))
    credentials = client_credentials(form, request.headers.get("authorization"))
    if not credentials.client_id or credentials.client_secret is None:
        raise InvalidClient("introspection needs a confidential client's credentials")
    caller: Caller
    if services.provider is not None and is_app_client(credentials.client_id):
        caller = await services.provider.clients.authenticate(
            credentials.client_id, credentials.client_secret
        )
    else:
        caller = await services.clients.authenticate(
            credentials.client_id, credentials.client_secret
        )
    token_value = form.get("token")
    if not token_value:
        raise OAuthError("token is required")
    answer = await services.introspector.introspect(
        token_value,
        caller,
        form.get("token_type_hint"),
        own_only=is_app_client(caller.client_id),
    )
    return JSONResponse(answer or {"active": False}, headers=NO_STORE)


@router.get("/.well-known/jwks.json")
async def jwks(services: ServicesDep) -> JSONResponse:
    """The public keys that verify our tokens (RFC 7517 §5)."""
    return JSONResponse(services.keyring.jwks(), headers={"Cache-Control": "max-age=60"})


def metadata(services: Services) -> dict[str, Any]:
    """What RFC 8414 and OpenID Connect Discovery 1.0 §3 describe, limited to what is
    implemented (every endpoint listed answers; every value listed is accepted)."""
    issuer = services.settings.issuer
    secret_methods = ["client_secret_basic", "client_secret_post"]
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "end_session_endpoint": f"{issuer}/oauth/logout",
        "pushed_authorization_request_endpoint": f"{issuer}/oauth/par",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "device_authorization_endpoint": f"{issuer}/oauth/device_authorization",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "prompt_values_supported": sorted(PROMPTS),
        "acr_values_supported": list(ACR_VALUES),
        "token_endpoint_auth_methods_supported": [*secret_methods, "none"],
        "revocation_endpoint_auth_methods_supported": [*secret_methods, "none"],
        "introspection_endpoint_auth_methods_supported": secret_methods,
        "pushed_authorization_request_endpoint_auth_methods_supported": [*secret_methods, "none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": sorted(ID_TOKEN_ALGORITHMS),
        "claims_supported": supported_claims(),
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "require_pushed_authorization_requests": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": False,
        "authgate_login_endpoint": f"{issuer}/v1/auth/login",
    }
    if services.settings.provider_dynamic_registration:
        document["registration_endpoint"] = f"{issuer}/oauth/register"
    return document


@router.get("/.well-known/openid-configuration")
async def openid_configuration(services: ServicesDep) -> JSONResponse:
    """OpenID Connect Discovery 1.0 §3."""
    return JSONResponse(metadata(services))


@router.get("/.well-known/oauth-authorization-server")
async def oauth_metadata(services: ServicesDep) -> JSONResponse:
    """RFC 8414 §2."""
    return JSONResponse(metadata(services))

"""Dynamic client registration (RFC 7591), off unless the operator turns it on.

An app registers itself by posting its metadata (§2) with an initial access token (§3): the
access token of a person who is OWNER or ADMIN of the token's organization. The new client
belongs to that organization, is marked ``dynamic`` and is administered like any other. The
answer (§3.2.1) holds the client id, the secret of a confidential client (shown only then)
and the metadata as registered. Metadata authgate does not know is ignored (§2); metadata it
knows but cannot accept is refused with ``invalid_redirect_uri`` or ``invalid_client_metadata``
(§3.2.2).
"""

from __future__ import annotations

from typing import Any

from authgate.errors import AuthgateError, InsufficientScope, NotFound
from authgate.identity.access import require_admin
from authgate.identity.deps import Actor, IdentityDeps
from authgate.provider.client_metadata import ClientSpec
from authgate.provider.clients import ClientRegistry
from authgate.provider.errors import InvalidClientMetadata, InvalidRedirectUriMetadata
from authgate.provider.models import GrantType, OAuthClient
from authgate.tokens.access import AccessClaims

SETTING = "AUTHGATE_PROVIDER_DYNAMIC_REGISTRATION"
"""The environment variable that turns dynamic registration on."""
REGISTRATION_PATH = "/oauth/register"
MAX_SCOPE_CHARS = 2048
_NOT_ADMIN = (
    "the initial access token must be the access token of an OWNER or ADMIN of its "
    "organization; sign in as one and send 'Authorization: Bearer <token>'"
)


def require_enabled(enabled: bool) -> None:
    """:class:`NotFound` naming the setting when registration is off."""
    if not enabled:
        raise NotFound(
            f"dynamic client registration is off on this server; an operator turns it on "
            f"with {SETTING}=true, or an admin registers the client through "
            f"/v1/orgs/{{org}}/oauth-clients"
        )


async def register(
    deps: IdentityDeps,
    registry: ClientRegistry,
    claims: AccessClaims,
    metadata: object,
    actor: Actor,
) -> dict[str, Any]:
    """Register the client ``metadata`` describes in the organization of ``claims`` (an
    already verified access token); the RFC 7591 §3.2.1 response body."""
    org = await deps.store.orgs.get(claims.org_id) if claims.is_user else None
    if org is None:
        raise InsufficientScope(_NOT_ADMIN)
    try:
        await require_admin(deps, org.slug, actor)
    except AuthgateError:
        raise InsufficientScope(_NOT_ADMIN) from None
    client, secret = await registry.create(org.slug, client_spec(metadata), actor, dynamic=True)
    return registration_response(client, secret)


def client_spec(metadata: object) -> ClientSpec:
    """The :class:`ClientSpec` of an RFC 7591 §2 metadata object (its types checked)."""
    if not isinstance(metadata, dict):
        raise InvalidClientMetadata("the body must be a JSON object of client metadata")
    grants = _strings(metadata, "grant_types", [GrantType.AUTHORIZATION_CODE.value])
    default_responses = ["code"] if GrantType.AUTHORIZATION_CODE.value in grants else []
    responses = _strings(metadata, "response_types", default_responses)
    if any(response != "code" for response in responses):
        raise InvalidClientMetadata("response_types: only 'code' is offered (no implicit flow)")
    if ("code" in responses) != (GrantType.AUTHORIZATION_CODE.value in grants):
        raise InvalidClientMetadata(
            "response_types: 'code' goes together with the authorization_code grant "
            "(RFC 7591 §2.1); send both or neither"
        )
    scope = _string(metadata, "scope")
    if scope is not None and len(scope) > MAX_SCOPE_CHARS:
        raise InvalidClientMetadata(f"scope: at most {MAX_SCOPE_CHARS} characters")
    return ClientSpec(
        name=_string(metadata, "client_name"),
        redirect_uris=tuple(_strings(metadata, "redirect_uris", [], redirect=True)),
        post_logout_redirect_uris=tuple(
            _strings(metadata, "post_logout_redirect_uris", [], redirect=True)
        ),
        grant_types=tuple(grants),
        scopes=None if scope is None else tuple(scope.split()),
        application_type=_string(metadata, "application_type") or "web",
        token_endpoint_auth_method=_string(metadata, "token_endpoint_auth_method"),
        id_token_signed_response_alg=_string(metadata, "id_token_signed_response_alg"),
        logo_uri=_string(metadata, "logo_uri"),
    )


def registration_response(client: OAuthClient, secret: str | None) -> dict[str, Any]:
    """RFC 7591 §3.2.1: the client's identifier, its secret (when it has one, never to
    expire) and the metadata as registered."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at.timestamp()),
    }
    if secret is not None:
        body |= {"client_secret": secret, "client_secret_expires_at": 0}
    body |= {
        "client_name": client.name,
        "application_type": client.application_type.value,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": [grant.value for grant in client.grant_types],
        "response_types": ["code"] if client.allows(GrantType.AUTHORIZATION_CODE) else [],
        "token_endpoint_auth_method": client.token_endpoint_auth_method.value,
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "scope": " ".join(client.scopes),
    }
    if client.logo_uri is not None:
        body["logo_uri"] = client.logo_uri
    return body


def _string(metadata: dict[str, Any], name: str) -> str | None:
    value = metadata.get(name)
    if value is None or isinstance(value, str):
        return value
    raise InvalidClientMetadata(f"{name} must be a string")


def _strings(
    metadata: dict[str, Any], name: str, default: list[str], *, redirect: bool = False
) -> list[str]:
    value = metadata.get(name)
    if value is None:
        return default
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    error = InvalidRedirectUriMetadata if redirect else InvalidClientMetadata
    raise error(f"{name} must be an array of strings")

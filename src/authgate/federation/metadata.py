"""An IdP's metadata: OpenID Connect Discovery 1.0 §3 and §4.3, RFC 8414 §2, RFC 9207 §3.

The document is fetched from ``{issuer}/.well-known/openid-configuration`` and its
``issuer`` must be the configured issuer exactly (§4.3), so that tokens of another issuer
can never pass as this one's. Entra ID is the one exception it knows: asked under a tenant
alias (``organizations``, ``common``, or a domain), it answers for the tenant's id, or with
the template ``…/{tenantid}/v2.0`` for a multi-tenant alias; each ID token then names its
tenant (``tid``), and its issuer is the template with that tenant filled in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authgate.federation.errors import InvalidIdpConfig
from authgate.federation.models import Endpoints, IdpType
from authgate.federation.urls import check_idp_url, same_origin

TENANT_PLACEHOLDER = "{tenantid}"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SIGNING_ALGORITHMS = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    "Ed25519",
)  # fmt: skip
"""Asymmetric algorithms only: ``none`` and the HMAC family are never accepted. ``Ed25519``
is RFC 9864's fully specified name for what ``EdDSA`` means with an Ed25519 key."""
DEFAULT_ALGORITHMS = ("RS256",)
"""OpenID Connect Discovery §3: RS256 when the IdP does not list its algorithms."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """The endpoints and capabilities of one IdP, checked."""

    issuer: str
    """Exact, or an Entra ID template holding ``{tenantid}``."""
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None
    signing_algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    iss_parameter: bool = False
    """RFC 9207: the IdP sends ``iss`` with every authorization response."""
    secret_in_body: bool = False
    """The IdP accepts ``client_secret_post`` only (the default is ``client_secret_basic``)."""

    @property
    def is_template(self) -> bool:
        """Whether the issuer depends on the token's tenant (Entra ID, multi-tenant)."""
        return TENANT_PLACEHOLDER in self.issuer

    def issuer_for(self, tenant: str | None) -> str | None:
        """The issuer a token of ``tenant`` must carry (None: a template without tenant)."""
        if not self.is_template:
            return self.issuer
        if tenant is None or not GUID.fullmatch(tenant):
            return None
        return self.issuer.replace(TENANT_PLACEHOLDER, tenant)


def discovery_url(issuer: str) -> str:
    """OpenID Connect Discovery 1.0 §4: where the issuer publishes its metadata."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def _segments(url: str) -> list[str]:
    return urlsplit(url).path.strip("/").split("/")


def entra_tenant(issuer: str) -> str | None:
    """The tenant id an Entra ID issuer names, or None for an alias or a template."""
    first = _segments(issuer)[0].lower()
    return first if GUID.fullmatch(first) else None


def entra_pattern(issuer: str) -> str:
    """The issuer an Entra ID tenant alias stands for: itself for a tenant id, else the
    ``{tenantid}`` template on the same path."""
    if entra_tenant(issuer) is not None or TENANT_PLACEHOLDER in issuer:
        return issuer
    parts = urlsplit(issuer)
    segments = _segments(issuer)
    path = "/" + "/".join([TENANT_PLACEHOLDER, *segments[1:]])
    return parts._replace(path=path).geturl()


def _entra_answer_ok(configured: str, found: str) -> bool:
    """Entra ID answered for the alias it was asked under: same origin, same path but the
    tenant segment, which is a tenant id or the template."""
    if not same_origin(found, configured):
        return False
    asked, answered = _segments(configured), _segments(found)
    if len(asked) != len(answered) or asked[1:] != answered[1:]:
        return False
    return answered[0] == TENANT_PLACEHOLDER or GUID.fullmatch(answered[0]) is not None


def parse_document(
    document: Mapping[str, Any], idp_type: IdpType, configured_issuer: str
) -> ProviderMetadata:
    """The metadata of a discovery document, or :class:`InvalidIdpConfig` saying what is wrong."""
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or (
        issuer != configured_issuer
        and not (idp_type is IdpType.ENTRA and _entra_answer_ok(configured_issuer, issuer))
    ):
        raise InvalidIdpConfig(
            "the IdP's metadata names another issuer than the configured one; set issuer to "
            "exactly the value its /.well-known/openid-configuration states"
        )
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=_url(document, "authorization_endpoint"),
        token_endpoint=_url(document, "token_endpoint"),
        jwks_uri=_url(document, "jwks_uri"),
        end_session_endpoint=(
            _url(document, "end_session_endpoint")
            if document.get("end_session_endpoint") is not None
            else None
        ),
        signing_algorithms=_algorithms(document.get("id_token_signing_alg_values_supported")),
        iss_parameter=document.get("authorization_response_iss_parameter_supported") is True,
        secret_in_body=_secret_in_body(document.get("token_endpoint_auth_methods_supported")),
    )


def from_endpoints(idp_type: IdpType, issuer: str, endpoints: Endpoints) -> ProviderMetadata:
    """The metadata of an IdP configured without discovery: every endpoint on the issuer's
    origin (see :mod:`authgate.federation.urls`)."""
    named = {
        "authorizationEndpoint": endpoints.authorization,
        "tokenEndpoint": endpoints.token,
        "jwksUri": endpoints.jwks_uri,
    }
    if endpoints.end_session is not None:
        named["endSessionEndpoint"] = endpoints.end_session
    for what, url in named.items():
        check_idp_url(url, what)
        if not same_origin(url, issuer):
            raise InvalidIdpConfig(
                f"{what} must be on the issuer's origin (scheme, host and port); to use "
                "endpoints elsewhere, let authgate discover them from the issuer's metadata"
            )
    return ProviderMetadata(
        issuer=entra_pattern(issuer) if idp_type is IdpType.ENTRA else issuer,
        authorization_endpoint=endpoints.authorization,
        token_endpoint=endpoints.token,
        jwks_uri=endpoints.jwks_uri,
        end_session_endpoint=endpoints.end_session,
    )


def _url(document: Mapping[str, Any], name: str) -> str:
    return check_idp_url(document.get(name), f"the IdP metadata's {name}")


def _algorithms(value: object) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_ALGORITHMS
    if not isinstance(value, list):
        raise InvalidIdpConfig(
            "the IdP metadata's id_token_signing_alg_values_supported is not a list"
        )
    usable = tuple(alg for alg in SIGNING_ALGORITHMS if alg in value)
    if not usable:
        raise InvalidIdpConfig(
            "the IdP signs ID tokens only with algorithms authgate refuses; configure it to "
            f"sign with one of {', '.join(SIGNING_ALGORITHMS)}"
        )
    return usable


def _secret_in_body(value: object) -> bool:
    if value is None or not isinstance(value, list) or "client_secret_basic" in value:
        return False
    if "client_secret_post" in value:
        return True
    raise InvalidIdpConfig(
        "the IdP's token endpoint accepts neither client_secret_basic nor client_secret_post; "
        "allow one of them for authgate's client"
    )

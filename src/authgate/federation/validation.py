"""What an IdP configuration may hold. Every problem names the field and the fix."""

from __future__ import annotations

import re
from dataclasses import replace

from authgate.errors import ValidationFailed
from authgate.federation.errors import InvalidIdpConfig
from authgate.federation.metadata import GUID, ProviderMetadata, entra_tenant
from authgate.federation.models import IdpSpec, IdpType, Provisioning
from authgate.federation.urls import check_idp_url
from authgate.identity.domains import normalise_domains
from authgate.identity.models import Organization

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")
CLIENT_ID = re.compile(r"[\x21-\x7e]{1,255}")
SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")
"""RFC 6749 §3.3 scope-token."""
SOLUTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_SECRET_CHARS = 4096
MAX_SCOPES = 20
MAX_TENANTS = 50
MAX_SOLUTIONS = 50


def check_name(name: str) -> str:
    """An IdP's name within its organization (it appears in URLs)."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise InvalidIdpConfig(
            "the IdP's name must be 1-63 lower-case letters, digits, dots, hyphens or "
            "underscores, starting with a letter or digit (e.g. 'entra' or 'okta-staff')"
        )
    return name


def check_spec(spec: IdpSpec, org: Organization, *, creating: bool) -> IdpSpec:
    """The spec with normalised fields, or :class:`InvalidIdpConfig`."""
    check_idp_url(spec.issuer, "issuer")
    if "?" in spec.issuer:
        raise InvalidIdpConfig("issuer must not have a query (OpenID Connect Discovery §3)")
    for what, value in (("clientId", spec.client_id), ("deviceClientId", spec.device_client_id)):
        if value is not None and (not isinstance(value, str) or not CLIENT_ID.fullmatch(value)):
            raise InvalidIdpConfig(f"{what} must be 1-255 printable ASCII characters")
    if spec.client_secret is None and creating:
        raise InvalidIdpConfig(
            "clientSecret is required: the secret of authgate's client at the IdP"
        )
    if spec.client_secret is not None and (
        not spec.client_secret
        or len(spec.client_secret) > MAX_SECRET_CHARS
        or not spec.client_secret.isprintable()
    ):
        raise InvalidIdpConfig(f"clientSecret must be 1-{MAX_SECRET_CHARS} printable characters")
    scopes = tuple(dict.fromkeys(spec.scopes))
    if "openid" not in scopes or len(scopes) > MAX_SCOPES:
        raise InvalidIdpConfig(f"scopes must include 'openid' (at most {MAX_SCOPES} scopes)")
    for scope in scopes:
        if not isinstance(scope, str) or not SCOPE.fullmatch(scope):
            raise InvalidIdpConfig("each scope must be printable ASCII without spaces or quotes")
    if not isinstance(spec.display_name, str) or len(spec.display_name) > 200:
        raise InvalidIdpConfig("displayName must be at most 200 characters")
    return replace(
        spec,
        scopes=scopes,
        domains=_domains(spec.domains, org),
        tenants=_tenants(spec),
        display_name=spec.display_name.strip(),
    )


def _domains(domains: tuple[str, ...], org: Organization) -> tuple[str, ...]:
    try:
        wanted = normalise_domains(list(domains))
    except ValidationFailed as exc:
        raise InvalidIdpConfig(f"domains: {exc.message}") from None
    if not wanted:
        raise InvalidIdpConfig(
            "domains must list the email domains the IdP serves (e.g. ['acme.example'])"
        )
    for domain in wanted:
        if domain not in org.domains:
            raise InvalidIdpConfig(
                f"{domain} is not a verified domain of the organization; verify it first "
                "(PATCH /v1/orgs/{org} domains, or `authgate admin org-domains`)"
            )
    return wanted


def _tenants(spec: IdpSpec) -> tuple[str, ...]:
    if spec.type is not IdpType.ENTRA:
        if spec.tenants:
            raise InvalidIdpConfig("tenants are for Entra ID only; remove them")
        return ()
    if len(spec.tenants) > MAX_TENANTS:
        raise InvalidIdpConfig(f"at most {MAX_TENANTS} tenants")
    tenants = tuple(sorted({str(tenant).strip().lower() for tenant in spec.tenants}))
    for tenant in tenants:
        if not GUID.fullmatch(tenant):
            raise InvalidIdpConfig(
                "each tenant must be an Entra ID tenant id (a GUID such as "
                "72f988bf-86f1-41af-91ab-2d7cd011db47)"
            )
    return tenants


def tenants_for(spec: IdpSpec, metadata: ProviderMetadata) -> tuple[str, ...]:
    """The tenants an Entra ID configuration admits, given what its issuer turned out to be."""
    if spec.type is not IdpType.ENTRA:
        return ()
    if metadata.is_template:
        if not spec.tenants:
            raise InvalidIdpConfig(
                "a multi-tenant Entra ID issuer needs the tenant ids it may admit in 'tenants'"
            )
        return spec.tenants
    tenant = entra_tenant(metadata.issuer)
    if tenant is None:
        raise InvalidIdpConfig(
            "an Entra ID issuer must be https://login.microsoftonline.com/<tenant>/v2.0"
        )
    if spec.tenants and spec.tenants != (tenant,):
        raise InvalidIdpConfig(
            f"this issuer is the tenant {tenant}'s: leave tenants empty or list that one only"
        )
    return (tenant,)


def check_solutions(solutions: list[str]) -> tuple[str, ...]:
    """The names of the solutions provisioned people get."""
    if len(solutions) > MAX_SOLUTIONS:
        raise InvalidIdpConfig(f"at most {MAX_SOLUTIONS} solutions")
    for name in solutions:
        if not isinstance(name, str) or not SOLUTION.fullmatch(name):
            raise InvalidIdpConfig("each solution must be a solution's name")
    return tuple(dict.fromkeys(solutions))


def check_provisioning(value: str) -> Provisioning:
    """A provisioning mode by its value."""
    try:
        return Provisioning(value)
    except ValueError:
        raise InvalidIdpConfig("provisioning must be auto, invite_only or request_access") from None

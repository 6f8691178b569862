"""What a registered client may say about itself, checked before anything is stored.

One set of rules serves the admin API, the CLI and dynamic registration (RFC 7591); only the
error differs: an administrator gets :class:`authgate.errors.ValidationFailed`, a
registering app the RFC 7591 §3.2.2 codes. Redirect URIs are checked here for what may be
registered (RFC 6749 §3.1.2, RFC 8252 §7, RFC 9700 §4.1); which requested URI matches a
registered one is :mod:`authgate.provider.redirect_uris`' job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from authgate.errors import AuthgateError, ValidationFailed
from authgate.provider.errors import InvalidClientMetadata, InvalidRedirectUriMetadata
from authgate.provider.id_tokens import ALGORITHMS as ID_TOKEN_ALGORITHMS
from authgate.provider.models import ApplicationType, AuthMethod, ClientType, GrantType
from authgate.provider.registered_uris import redirect_uri_problem, uri_problem
from authgate.provider.scopes import SUPPORTED_SCOPES, default_scopes, unsupported_scopes

MAX_URIS = 20
"""At most this many redirect URIs (and as many post-logout ones) per client."""
MAX_NAME_CHARS = 200

# Dynamic registration names two fields as RFC 7591 §2 does.
_RFC7591_NAMES = {"name": "client_name", "scopes": "scope"}
_E = TypeVar("_E", ApplicationType, ClientType)
_GRANTS = ", ".join(grant.value for grant in GrantType)


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """A client's metadata as given, not yet checked (every field a caller may set)."""

    name: str | None
    """The name the consent page shows; dynamic registration may leave it out."""
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = (GrantType.AUTHORIZATION_CODE.value,)
    scopes: tuple[str, ...] | None = None
    """None: the default scopes (see :func:`authgate.provider.scopes.default_scopes`)."""
    client_type: str | None = None
    """None: follows ``token_endpoint_auth_method`` (``none`` is public), else confidential."""
    application_type: str = ApplicationType.WEB.value
    token_endpoint_auth_method: str | None = None
    """None: ``none`` for a public client, ``client_secret_basic`` for a confidential one."""
    id_token_signed_response_alg: str | None = None
    logo_uri: str | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ClientMetadata:
    """Checked metadata, ready to become an :class:`~authgate.provider.models.OAuthClient`."""

    name: str | None
    client_type: ClientType
    application_type: ApplicationType
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    grant_types: tuple[GrantType, ...]
    scopes: tuple[str, ...]
    token_endpoint_auth_method: AuthMethod
    id_token_signed_response_alg: str
    logo_uri: str | None
    disabled: bool


class _Refused(Exception):
    """One refused field; :func:`check_client` turns it into the caller's error."""

    def __init__(self, field: str, message: str, *, redirect: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.redirect = redirect


def check_client(spec: ClientSpec, *, dynamic: bool = False) -> ClientMetadata:
    """The checked metadata of ``spec``.

    Raises :class:`ValidationFailed` naming the field and the fix, or with ``dynamic=True``
    (RFC 7591) :class:`InvalidRedirectUriMetadata` for a redirect URI and
    :class:`InvalidClientMetadata` for anything else.
    """
    try:
        return _check(spec, dynamic)
    except _Refused as refused:
        field = _RFC7591_NAMES.get(refused.field, refused.field) if dynamic else refused.field
        message = f"{field}: {refused.message}"
        error: AuthgateError
        if not dynamic:
            error = ValidationFailed(message, details={"field": field})
        elif refused.redirect:
            error = InvalidRedirectUriMetadata(message)
        else:
            error = InvalidClientMetadata(message)
        raise error from None


def _check(spec: ClientSpec, dynamic: bool) -> ClientMetadata:
    name = _name(spec.name, dynamic)
    application = _enum(ApplicationType, spec.application_type, "application_type")
    client_type, method = _authentication(spec.client_type, spec.token_endpoint_auth_method)
    grants = _grants(spec.grant_types, client_type)
    redirects = _uris(spec.redirect_uris, "redirect_uris", application)
    logouts = _uris(spec.post_logout_redirect_uris, "post_logout_redirect_uris", application)
    if GrantType.AUTHORIZATION_CODE in grants and not redirects:
        raise _Refused(
            "redirect_uris",
            "the authorization_code grant needs at least one redirect URI",
            redirect=True,
        )
    if spec.scopes is None:
        scopes = default_scopes(GrantType.REFRESH_TOKEN in grants)
    else:
        scopes = _scopes(spec.scopes)
    # RS256 is OpenID Connect's default (Core §3.1.3.7); EdDSA is offered beside it.
    algorithm = spec.id_token_signed_response_alg or "RS256"
    if algorithm not in ID_TOKEN_ALGORITHMS:
        raise _Refused(
            "id_token_signed_response_alg",
            f"'{_shown(algorithm)}' is not offered; use RS256 (the default) or EdDSA",
        )
    return ClientMetadata(
        name=name,
        client_type=client_type,
        application_type=application,
        redirect_uris=redirects,
        post_logout_redirect_uris=logouts,
        grant_types=grants,
        scopes=scopes,
        token_endpoint_auth_method=method,
        id_token_signed_response_alg=algorithm,
        logo_uri=None if spec.logo_uri is None else _logo(spec.logo_uri),
        disabled=spec.disabled,
    )


def _shown(value: str) -> str:
    # Echo a caller's value only shortened and printable: it lands in logs and pages.
    cut = value[:64]
    return cut if cut.isprintable() else cut.encode("unicode_escape").decode("ascii")


def _name(name: str | None, dynamic: bool) -> str | None:
    if name is None and dynamic:
        return None
    stripped = (name or "").strip()
    if not stripped or len(stripped) > MAX_NAME_CHARS or not stripped.isprintable():
        raise _Refused(
            "name", f"give 1-{MAX_NAME_CHARS} printable characters (the consent page shows it)"
        )
    return stripped


def _enum(kind: type[_E], value: str, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        allowed = " or ".join(member.value for member in kind)
        raise _Refused(field, f"'{_shown(value)}' is not one of {allowed}") from None


def _authentication(client_type: str | None, method: str | None) -> tuple[ClientType, AuthMethod]:
    auth = None
    if method is not None:
        try:
            auth = AuthMethod(method)
        except ValueError:
            raise _Refused(
                "token_endpoint_auth_method",
                f"'{_shown(method)}' is not supported; use client_secret_basic, "
                "client_secret_post, or none for a public client",
            ) from None
    if client_type is not None:
        kind = _enum(ClientType, client_type, "client_type")
    else:
        kind = ClientType.PUBLIC if auth is AuthMethod.NONE else ClientType.CONFIDENTIAL
    if auth is None:
        auth = AuthMethod.NONE if kind is ClientType.PUBLIC else AuthMethod.CLIENT_SECRET_BASIC
    if (kind is ClientType.PUBLIC) != (auth is AuthMethod.NONE):
        raise _Refused(
            "token_endpoint_auth_method",
            "a public client authenticates with 'none', a confidential one with "
            "client_secret_basic or client_secret_post",
        )
    return kind, auth


def _grants(values: tuple[str, ...], client_type: ClientType) -> tuple[GrantType, ...]:
    grants: list[GrantType] = []
    for value in values:
        try:
            grant = GrantType(value)
        except ValueError:
            raise _Refused(
                "grant_types", f"'{_shown(value)}' is not supported; use {_GRANTS}"
            ) from None
        if grant not in grants:
            grants.append(grant)
    if not grants:
        raise _Refused("grant_types", f"give at least one of {_GRANTS}")
    if client_type is ClientType.PUBLIC and GrantType.CLIENT_CREDENTIALS in grants:
        raise _Refused(
            "grant_types",
            "a public client cannot use client_credentials: it has no secret to prove itself",
        )
    if GrantType.REFRESH_TOKEN in grants and not (
        GrantType.AUTHORIZATION_CODE in grants or GrantType.DEVICE_CODE in grants
    ):
        raise _Refused(
            "grant_types",
            "refresh_token needs authorization_code or the device_code grant beside it",
        )
    return tuple(grants)


def _scopes(values: tuple[str, ...]) -> tuple[str, ...]:
    refused = unsupported_scopes(values)
    if refused:
        raise _Refused(
            "scopes",
            f"'{_shown(refused[0])}' is not offered; choose from {', '.join(SUPPORTED_SCOPES)}",
        )
    return tuple(scope for scope in SUPPORTED_SCOPES if scope in values)


def _uris(values: tuple[str, ...], field: str, application: ApplicationType) -> tuple[str, ...]:
    if len(values) > MAX_URIS:
        raise _Refused(field, f"give at most {MAX_URIS} URIs", redirect=True)
    checked: list[str] = []
    for value in values:
        problem = redirect_uri_problem(value, application)
        if problem is not None:
            raise _Refused(field, f"'{_shown(value)}' {problem}", redirect=True)
        if value not in checked:
            checked.append(value)
    return tuple(checked)


def _logo(uri: str) -> str:
    problem = uri_problem(uri)
    if problem is None and uri.partition(":")[0].lower() != "https":
        problem = "must use https, so that the consent page can show it safely"
    if problem is not None:
        raise _Refused("logo_uri", f"'{_shown(uri)}' {problem}")
    return uri

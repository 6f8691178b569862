"""Checks of what an administrator submits: names, hosts, URLs and kind-specific fields.

Messages say which field is wrong and what is accepted; they never repeat a secret field.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from authgate.vault.errors import InvalidCredential
from authgate.vault.models import CredentialKind, CredentialSpec, OAuthClientConfig

NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
SOLUTION = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")
_PARAM_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
MAX_HOSTS = 50
MAX_SECRET_CHARS = 8192
MAX_DESCRIPTION = 500
_RESERVED_AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    }
)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def check_name(name: str) -> str:
    """A credential name: letters, digits, ``.``, ``-``, ``_``; 1 to 128 characters."""
    if not NAME.fullmatch(name):
        raise InvalidCredential(
            "a credential name is 1 to 128 letters, digits, '.', '-' or '_' (e.g. crm.oauth)"
        )
    return name


def check_solution(solution: str | None) -> str | None:
    """A solution scope, or ``None`` for organization-wide."""
    if solution is None:
        return None
    if not SOLUTION.fullmatch(solution):
        raise InvalidCredential(
            "solution must be a solution's name: 1 to 128 letters, digits, '.', '-' or '_'"
        )
    return solution


def check_host(host: str) -> str:
    """A lower-case host name (ASCII, RFC 1123 labels) or IP address, without port."""
    candidate = host.strip().lower().removesuffix(".")
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return ipaddress.ip_address(candidate).compressed
    except ValueError:
        pass
    labels = candidate.split(".")
    if (
        not candidate
        or len(candidate) > 253
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        shown = host[:80].encode("ascii", "backslashreplace").decode()
        raise InvalidCredential(
            f"allowed host '{shown}' is not a host name or IP address; give bare names such "
            "as api.example.com (no scheme, port, path or wildcard; IDNs in punycode)"
        )
    return candidate


def check_hosts(kind: CredentialKind, hosts: tuple[str, ...]) -> tuple[str, ...]:
    """The allowed hosts, normalised and de-duplicated; required for HTTP kinds."""
    if len(hosts) > MAX_HOSTS:
        raise InvalidCredential(f"allowedHosts may list at most {MAX_HOSTS} hosts")
    checked = tuple(dict.fromkeys(check_host(host) for host in hosts))
    if kind.goes_over_http and not checked:
        raise InvalidCredential(
            f"a {kind.value} credential needs allowedHosts: the hosts it may be sent to"
        )
    return checked


def _check_secret(kind: CredentialKind, field: str, value: str) -> None:
    if not value or len(value) > MAX_SECRET_CHARS:
        raise InvalidCredential(f"{field} must be 1 to {MAX_SECRET_CHARS} characters")
    if kind is not CredentialKind.SQL_CONNECTION and any(c in value for c in "\r\n\x00"):
        raise InvalidCredential(f"{field} must not contain line breaks or NUL characters")
    if kind is CredentialKind.BASIC and field == "username" and ":" in value:
        raise InvalidCredential("username must not contain ':' (basic authentication)")
    if kind is CredentialKind.SQL_CONNECTION:
        scheme = value.partition("://")[0]
        if "://" not in value or not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
            raise InvalidCredential(
                "value must be a connection URL such as postgresql://user:password@host/db"
            )


def check_url(field: str, url: str) -> str:
    """An absolute https URL (http only for a loopback host), without credentials."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    secure = parts is not None and (
        parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK)
    )
    if parts is None or not secure or not host or parts.username or parts.password:
        raise InvalidCredential(
            f"{field} must be an absolute https URL without user information "
            "(e.g. https://login.example.com/oauth2/authorize)"
        )
    if len(url) > 2048 or parts.fragment:
        raise InvalidCredential(f"{field} must be at most 2048 characters, without a fragment")
    return url


def check_oauth(config: OAuthClientConfig | None) -> OAuthClientConfig:
    """The non-secret settings of an ``oauth_client`` credential."""
    if config is None:
        raise InvalidCredential(
            "an oauth_client credential needs authorizeUrl, tokenUrl and clientId"
        )
    check_url("authorizeUrl", config.authorize_url)
    check_url("tokenUrl", config.token_url)
    if not 1 <= len(config.client_id) <= 512 or not config.client_id.isprintable():
        raise InvalidCredential("clientId must be 1 to 512 printable characters")
    if len(config.scopes) > 50 or not all(_SCOPE_TOKEN.fullmatch(s) for s in config.scopes):
        raise InvalidCredential("scopes must be at most 50 RFC 6749 scope tokens")
    for name, value in config.extra_authorize_params:
        if not _PARAM_NAME.fullmatch(name) or name.lower() in _RESERVED_AUTHORIZE_PARAMS:
            raise InvalidCredential(
                f"extraAuthorizeParams may not set '{name[:64]}': authgate sets the OAuth "
                "parameters itself; use names of letters, digits, '.', '_', '~' or '-'"
            )
        if len(value) > 512 or not value.isprintable():
            raise InvalidCredential(f"extraAuthorizeParams '{name}' must be 0 to 512 characters")
    return config


def check_spec(spec: CredentialSpec) -> CredentialSpec:
    """``spec`` if every field fits its kind; hosts come back normalised."""
    expected = set(spec.kind.secret_fields)
    given = set(spec.secret.fields)
    if given != expected:
        wanted = ", ".join(sorted(expected))
        raise InvalidCredential(f"a {spec.kind.value} credential takes exactly: {wanted}")
    for name in spec.kind.secret_fields:
        _check_secret(spec.kind, name, spec.secret[name])
    if spec.kind is CredentialKind.OAUTH_CLIENT:
        check_oauth(spec.oauth)
    elif spec.oauth is not None:
        raise InvalidCredential("OAuth settings apply only to oauth_client credentials")
    if spec.kind is CredentialKind.SQL_CONNECTION and spec.device_usable:
        raise InvalidCredential("an sql_connection is never sent to a device: deviceUsable false")
    if len(spec.description) > MAX_DESCRIPTION or not spec.description.isprintable():
        raise InvalidCredential(f"description must be at most {MAX_DESCRIPTION} characters")
    check_solution(spec.solution)
    return CredentialSpec(
        kind=spec.kind,
        secret=spec.secret,
        allowed_hosts=check_hosts(spec.kind, spec.allowed_hosts),
        solution=spec.solution,
        device_usable=spec.device_usable,
        description=spec.description,
        oauth=spec.oauth,
    )

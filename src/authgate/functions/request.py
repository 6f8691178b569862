"""Build the upstream request of one page from resolved parameters and credentials.

FUNCTIONS.md, "REST functions" and "Credentials":

* ``{name}`` in the URL's path is a path parameter, percent-encoded as exactly one segment
  (RFC 3986 §3.3): a value can never add a ``/``, nor be ``.`` or ``..``.
* The query written in ``url`` is replaced by the ``query`` parameters (arrays repeat the
  key); a continuation's URL is kept as given and its query parameters are appended.
* ``header`` parameters become headers (RFC 9110 §5: token names, values without CR, LF or
  NUL); ``accessToken`` becomes ``Authorization: Bearer <token>``.
* ``body`` parameters are the document of ``inputTransform``, whose result is the JSON body;
  without one, the body parameters themselves are the JSON object.
* ``credential`` and ``secret`` locations put nothing on the wire and are not resolved here.
* Every credential used binds the request to its hosts: ``allowed_hosts`` is the intersection
  over all of them, and the URL's host must be in it. Basic credentials are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from authgate.functions.errors import (
    BasicAuthenticationRefused,
    CredentialHostRefused,
    InvalidFunctionArguments,
    InvalidFunctionRequest,
)
from authgate.functions.expressions import EvaluationLimits, compile_expression
from authgate.functions.model import Parameter, ParameterLocation
from authgate.functions.ports import CredentialKind, ResolvedCredential, UpstreamRequest

ACCESS_TOKEN_HEADER = "accesstoken"
_PATH_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_FORBIDDEN_HEADER_VALUE = re.compile(r"[\r\n\x00]")
# Headers that frame or route the request: the HTTP client sets them, a function never does.
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "expect",
        "proxy-connection",
        "proxy-authorization",
    }
)
_QUERY_SAFE = "$:@,/!'()*"
_SCHEMES = frozenset({"http", "https"})
_UNSENT = frozenset({ParameterLocation.CREDENTIAL, ParameterLocation.SECRET})
_BEARER_KINDS = frozenset({CredentialKind.BEARER, CredentialKind.OAUTH})


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What one page's request is made of; ``is_continuation`` keeps the URL as given."""

    method: str
    url: str
    parameters: Mapping[str, Parameter]
    values: Mapping[str, Any]
    input_transform: str | None
    is_continuation: bool = False


def credential_names(parameters: Mapping[str, Parameter]) -> list[str]:
    """The stored credentials a page's parameters are filled from, in declaration order."""
    names: list[str] = []
    for parameter in parameters.values():
        name = _credential_name(parameter)
        if name is not None and name not in names:
            names.append(name)
    return names


def build_request(
    page: PageRequest,
    credentials: Mapping[str, ResolvedCredential],
    *,
    ctx: Mapping[str, Any],
    limits: EvaluationLimits,
) -> UpstreamRequest:
    """The :class:`UpstreamRequest` for ``page``; ``credentials`` holds every one it names."""
    try:
        return _build(page, credentials, ctx=ctx, limits=limits)
    except UnicodeEncodeError:
        # JSON may carry lone surrogates ("\ud800"), which no URL, header or body can.
        raise InvalidFunctionArguments(
            "a parameter value is not valid Unicode text (it holds a lone surrogate)"
        ) from None


def _build(
    page: PageRequest,
    credentials: Mapping[str, ResolvedCredential],
    *,
    ctx: Mapping[str, Any],
    limits: EvaluationLimits,
) -> UpstreamRequest:
    used: list[ResolvedCredential] = []
    filled: dict[str, tuple[Parameter, Any, ResolvedCredential | None]] = {}
    for name, parameter in page.parameters.items():
        credential_name = _credential_name(parameter)
        if credential_name is not None:
            credential = credentials[credential_name]
            if credential.kind is CredentialKind.BASIC:
                raise BasicAuthenticationRefused(
                    403,
                    "Basic authentication is not allowed through the cloud proxy",
                    f"parameter {name!r} uses a basic-auth credential; use an API key, a "
                    "token or OAuth, or run the function on the device",
                )
            used.append(credential)
            filled[name] = (parameter, credential.value, credential)
        elif name in page.values:
            filled[name] = (parameter, page.values[name], None)

    url = _url(page, filled)
    headers, sensitive = _headers(filled)
    body = _body(page, filled, ctx=ctx, limits=limits)
    if body is not None and not any(key == "content-type" for key, _ in headers):
        headers.append(("content-type", "application/json"))
    allowed = _allowed_hosts(used)
    if allowed is not None:
        check_host(url, allowed)
    return UpstreamRequest(
        method=page.method.upper(),
        url=url,
        headers=tuple(headers),
        body=body,
        sensitive_headers=frozenset(sensitive),
        allowed_hosts=allowed,
    )


def check_host(url: str, allowed: frozenset[str]) -> None:
    """Refuse ``url`` unless its host is one of ``allowed`` (lower-case, no port)."""
    host = _host(url)
    if host not in {_normal_host(h) for h in allowed}:
        raise CredentialHostRefused(
            403,
            "A credential of this function is not bound to the request's host",
            f"the request goes to {host!r}; bind the credential to that host, or point the "
            "function at a host the credential is bound to",
        )


def check_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL with a host and no user information."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError on a malformed port
    except ValueError:
        raise _invalid_url("it does not parse") from None
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        raise _invalid_url("it must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise BasicAuthenticationRefused(
            403,
            "Basic authentication is not allowed through the cloud proxy",
            "the function's URL carries user information; remove it from the URL",
        )


def _url(page: PageRequest, filled: Mapping[str, tuple[Parameter, Any, Any]]) -> str:
    check_url(page.url)
    scheme, netloc, path, query, _fragment = urlsplit(page.url)
    if _PATH_PLACEHOLDER.search(netloc):
        raise _invalid_url("path parameters may only appear in the URL's path")
    if not page.is_continuation:
        path = _PATH_PLACEHOLDER.sub(lambda m: _path_segment(m.group(1), filled), path)
    pairs = [
        (name, item)
        for name, (parameter, value, _) in filled.items()
        if parameter.location is ParameterLocation.QUERY
        for item in _query_values(name, value)
    ]
    encoded = "&".join(
        f"{quote(name, safe=_QUERY_SAFE)}={quote(item, safe=_QUERY_SAFE)}" for name, item in pairs
    )
    if page.is_continuation:
        query = "&".join(part for part in (query, encoded) if part)
    elif any(p.location is ParameterLocation.QUERY for p in page.parameters.values()):
        query = encoded
    return urlunsplit((scheme, netloc, path, query, ""))


def _path_segment(name: str, filled: Mapping[str, tuple[Parameter, Any, Any]]) -> str:
    entry = filled.get(name)
    if entry is None or entry[0].location is not ParameterLocation.PATH:
        raise _invalid_url(f"the URL names {{{name}}} but no path parameter {name!r} has a value")
    text = _scalar_text(name, entry[1])
    if text in ("", ".", ".."):
        raise InvalidFunctionArguments(
            f"parameter {name!r} must not be empty, '.' or '..': it is one segment of the path"
        )
    return quote(text, safe="")


def _query_values(name: str, value: Any) -> list[str]:
    if isinstance(value, list):
        return [_scalar_text(name, item) for item in value]
    return [_scalar_text(name, value)]


def _headers(
    filled: Mapping[str, tuple[Parameter, Any, ResolvedCredential | None]],
) -> tuple[list[tuple[str, str]], set[str]]:
    headers: list[tuple[str, str]] = []
    sensitive: set[str] = set()
    for name, (parameter, value, credential) in filled.items():
        if parameter.location is not ParameterLocation.HEADER:
            continue
        header, text = name.lower(), _scalar_text(name, value)
        if not _HEADER_NAME.match(name) or header in _RESERVED_HEADERS:
            raise InvalidFunctionRequest(
                502,
                "The function declares a header that cannot be sent",
                f"header parameter {name!r} is not a valid or settable header name",
            )
        text.encode()  # a lone surrogate raises here, not in the HTTP client
        if _FORBIDDEN_HEADER_VALUE.search(text):
            raise InvalidFunctionArguments(
                f"header parameter {name!r} must not contain CR, LF or NUL characters"
            )
        bearer = credential is None or credential.kind in _BEARER_KINDS
        if header == ACCESS_TOKEN_HEADER and bearer:
            header, text = "authorization", f"Bearer {text}"
        headers.append((header, text))
        if credential is not None or header == "authorization":
            sensitive.add(header)
    return headers, sensitive


def _body(
    page: PageRequest,
    filled: Mapping[str, tuple[Parameter, Any, Any]],
    *,
    ctx: Mapping[str, Any],
    limits: EvaluationLimits,
) -> bytes | None:
    document = {
        name: value
        for name, (parameter, value, _) in filled.items()
        if parameter.location is ParameterLocation.BODY
    }
    if page.input_transform is not None:
        content = compile_expression(page.input_transform).evaluate(
            document, ctx=ctx, role="inputTransform", limits=limits
        )
    elif document:
        content = document
    else:
        return None
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def _allowed_hosts(used: list[ResolvedCredential]) -> frozenset[str] | None:
    if not used:
        return None
    allowed = frozenset(_normal_host(h) for h in used[0].allowed_hosts)
    for credential in used[1:]:
        allowed &= frozenset(_normal_host(h) for h in credential.allowed_hosts)
    if not allowed:
        names = ", ".join(sorted({c.name for c in used}))
        raise CredentialHostRefused(
            403,
            "The function's credentials share no host they may be sent to",
            f"credentials {names} are bound to no common host; bind them to the API's host",
        )
    return allowed


def _credential_name(parameter: Parameter) -> str | None:
    # ``credential``/``secret`` locations say where nothing on the wire goes: not resolved.
    if parameter.location in _UNSENT:
        return None
    return parameter.credential


def _scalar_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise InvalidFunctionArguments(
        f"parameter {name!r} must be a string, number or boolean where it is sent"
    )


def _host(url: str) -> str:
    return _normal_host(urlsplit(url).hostname or "")


def _normal_host(host: str) -> str:
    return host.lower().rstrip(".")


def _invalid_url(problem: str) -> InvalidFunctionRequest:
    return InvalidFunctionRequest(
        502, "The function's URL cannot be used", f"the URL is refused: {problem}"
    )

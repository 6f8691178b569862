"""Build the upstream request of one page from resolved parameters and credentials.

FUNCTIONS.md, "REST functions" and "Credentials":

* Path and query parameters go into the URL (:mod:`authgate.functions.request_url`).
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

from authgate.functions.errors import (
    BasicAuthenticationRefused,
    CredentialHostRefused,
    InvalidFunctionArguments,
    InvalidFunctionRequest,
)
from authgate.functions.expressions import EvaluationLimits, compile_expression
from authgate.functions.model import Parameter, ParameterLocation
from authgate.functions.ports import CredentialKind, ResolvedCredential, UpstreamRequest
from authgate.functions.request_url import build_url, check_host, normal_host, scalar_text

ACCESS_TOKEN_HEADER = "accesstoken"
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

    url = build_url(
        page.url,
        path=None if page.is_continuation else _located(filled, ParameterLocation.PATH),
        query=list(_located(filled, ParameterLocation.QUERY).items()),
        replace_query=not page.is_continuation
        and any(p.location is ParameterLocation.QUERY for p in page.parameters.values()),
    )
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


def _headers(
    filled: Mapping[str, tuple[Parameter, Any, ResolvedCredential | None]],
) -> tuple[list[tuple[str, str]], set[str]]:
    headers: list[tuple[str, str]] = []
    sensitive: set[str] = set()
    for name, (parameter, value, credential) in filled.items():
        if parameter.location is not ParameterLocation.HEADER:
            continue
        header, text = name.lower(), scalar_text(name, value)
        if not _HEADER_NAME.match(name) or header in _RESERVED_HEADERS:
            raise InvalidFunctionRequest(
                502,
                "The function declares a header that cannot be sent",
                f"header parameter {name!r} is not a valid or settable header name",
            )
        text.encode()  # a lone surrogate raises here, not in the HTTP client
        if _FORBIDDEN_HEADER_VALUE.search(text) and credential is not None:
            raise InvalidFunctionRequest(
                502,
                "A stored credential cannot be sent in a header",
                f"credential {credential.name!r} holds a line break or NUL character; "
                "store its value again without one",
            )
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
    allowed = frozenset(normal_host(h) for h in used[0].allowed_hosts)
    for credential in used[1:]:
        allowed &= frozenset(normal_host(h) for h in credential.allowed_hosts)
    if not allowed:
        names = ", ".join(sorted({c.name for c in used}))
        raise CredentialHostRefused(
            403,
            "The function's credentials share no host they may be sent to",
            f"credentials {names} are bound to no common host; bind them to the API's host",
        )
    return allowed


def _located(
    filled: Mapping[str, tuple[Parameter, Any, Any]], location: ParameterLocation
) -> dict[str, Any]:
    return {name: value for name, (p, value, _) in filled.items() if p.location is location}


def _credential_name(parameter: Parameter) -> str | None:
    # ``credential``/``secret`` locations say where nothing on the wire goes: not resolved.
    if parameter.location in _UNSENT:
        return None
    return parameter.credential

"""Collecting the OAuth 1.0a request parameters (RFC 5849 §3.4.1.3.1, §3.5).

Parameters come from the ``Authorization: OAuth …`` header (§3.5.1, without ``realm``), the
query string and, only when the content type is ``application/x-www-form-urlencoded``, the
body (§3.5.2, §3.5.3). The ``oauth_*`` protocol parameters must all sit in exactly one of
those places, each at most once; other parameters may repeat and are all signed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote_to_bytes

from authgate.signedfetch.errors import InvalidOAuthRequest

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
PROTOCOL_PREFIX = "oauth_"

_SCHEME = re.compile(r"[ \t]*OAuth(?:[ \t]+|$)", re.IGNORECASE)
# §3.5.1: name="value", values already percent-encoded, so a quote never appears inside one.
_PARAMETER = re.compile(r'[ \t]*([^\s=,"]+)[ \t]*=[ \t]*"([^"]*)"[ \t]*(?:,|$)')
_LIST_GAP = re.compile(r"[ \t]*,")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


class Placement(StrEnum):
    """Where the protocol parameters were sent (§3.5)."""

    HEADER = "Authorization header"
    QUERY = "query string"
    BODY = "form body"


@dataclass(frozen=True, slots=True)
class RequestParameters:
    """The parameters of one request, as the signature sees them."""

    protocol: Mapping[str, str]
    """Every ``oauth_*`` parameter, from the one place they were sent, including the signature."""
    signed: tuple[tuple[str, str], ...]
    """Every request parameter of §3.4.1.3.1 except ``realm`` and ``oauth_signature``."""
    placement: Placement
    realm: str | None = None


def percent_decode(value: str, *, plus_is_space: bool = False) -> str:
    """Strict percent-decoding to UTF-8 text; a stray ``%`` or invalid UTF-8 is refused."""
    if _BAD_ESCAPE.search(value):
        raise InvalidOAuthRequest("a parameter has a '%' that does not start a %XX escape")
    if plus_is_space:
        value = value.replace("+", " ")
    try:
        return unquote_to_bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidOAuthRequest("a parameter is not percent-encoded UTF-8") from None


def parse_form(text: str) -> list[tuple[str, str]]:
    """``application/x-www-form-urlencoded`` pairs, in order, duplicates and blanks kept."""
    pairs: list[tuple[str, str]] = []
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        pairs.append(
            (percent_decode(name, plus_is_space=True), percent_decode(value, plus_is_space=True))
        )
    return pairs


def is_oauth_authorization(header: str) -> bool:
    """Whether an ``Authorization`` header value uses the ``OAuth`` scheme."""
    return _SCHEME.match(header) is not None


def parse_authorization_header(header: str) -> list[tuple[str, str]]:
    """§3.5.1: the decoded ``name="value"`` pairs of an ``Authorization: OAuth`` header."""
    scheme = _SCHEME.match(header)
    if scheme is None:
        raise InvalidOAuthRequest("the Authorization header does not use the OAuth scheme")
    pairs: list[tuple[str, str]] = []
    position = scheme.end()
    while position < len(header):
        gap = _LIST_GAP.match(header, position)
        if gap is not None:  # empty list elements are allowed in HTTP lists
            position = gap.end()
            continue
        if not header[position:].strip(" \t"):
            break
        match = _PARAMETER.match(header, position)
        if match is None:
            raise InvalidOAuthRequest(
                f"the OAuth Authorization header is malformed at character {position}; "
                'send comma-separated name="percent-encoded value" pairs'
            )
        pairs.append((percent_decode(match.group(1)), percent_decode(match.group(2))))
        position = match.end()
    return pairs


def is_form_body(content_type: str | None) -> bool:
    """Whether the content type makes the body a source of signed parameters (§3.4.1.3.1)."""
    if content_type is None:
        return False
    return content_type.split(";", 1)[0].strip().lower() == FORM_CONTENT_TYPE


def collect_parameters(
    authorization: str | None, query: str, body: bytes, content_type: str | None
) -> RequestParameters:
    """Gather the request parameters and the protocol parameters from their one place."""
    sources: dict[Placement, list[tuple[str, str]]] = {}
    realm: str | None = None
    if authorization is not None and is_oauth_authorization(authorization):
        header = parse_authorization_header(authorization)
        realm = next((value for name, value in header if name == "realm"), None)
        sources[Placement.HEADER] = [(n, v) for n, v in header if n != "realm"]
    sources[Placement.QUERY] = parse_form(query)
    if is_form_body(content_type):
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidOAuthRequest("a form body must be percent-encoded ASCII") from None
        sources[Placement.BODY] = parse_form(text)

    carrying = [
        place
        for place, pairs in sources.items()
        if any(name.startswith(PROTOCOL_PREFIX) for name, _ in pairs)
    ]
    if not carrying:
        raise InvalidOAuthRequest(
            "the request carries no OAuth protocol parameters; sign it and send them in the "
            "Authorization header"
        )
    if len(carrying) > 1:
        places = " and ".join(place.value for place in carrying)
        raise InvalidOAuthRequest(
            f"OAuth protocol parameters appear in the {places}; send them in one place only"
        )
    placement = carrying[0]
    protocol: dict[str, str] = {}
    for name, value in sources[placement]:
        if name.startswith(PROTOCOL_PREFIX):
            if name in protocol:
                raise InvalidOAuthRequest(
                    f"the protocol parameter {name[:60]} appears more than once"
                )
            protocol[name] = value
    signed = tuple(
        (name, value)
        for pairs in sources.values()
        for name, value in pairs
        if name != "oauth_signature"
    )
    return RequestParameters(protocol=protocol, signed=signed, placement=placement, realm=realm)

"""Signing an outgoing OAuth 1.0a request (RFC 5849 §3.1, §3.5.1, body hash extension).

The gateway re-signs each forwarded request with the app's consumer key and secret. Query
and form-body parameters are read from the request itself; the protocol parameters go into
the ``Authorization`` header, with ``oauth_body_hash`` for any body that is not form-encoded.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from authgate.signedfetch.body_hash import body_hash
from authgate.signedfetch.parameters import is_form_body, parse_form
from authgate.signedfetch.signature import (
    SignatureMethod,
    SigningCredential,
    percent_encode,
    sign,
    signature_base_string,
)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What to add to the request: the ``Authorization`` header value and its body hash."""

    authorization: str
    body_hash: str | None
    nonce: str
    timestamp: int


def sign_request(
    method: str,
    url: str,
    params: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
    *,
    consumer_key: str,
    consumer_secret: SigningCredential,
    signature_method: SignatureMethod = SignatureMethod.HMAC_SHA1,
    content_type: str | None = None,
    now: datetime,
    nonce: str | None = None,
    token: str | None = None,
    realm: str | None = None,
) -> SignedRequest:
    """Sign ``method url`` and return the ``Authorization: OAuth …`` value to send.

    ``params`` are further protocol parameters for the header (``oauth_*`` or ``xoauth_*``
    extensions); the URL's query and a form body (by ``content_type``) are signed as sent.
    ``nonce`` defaults to 96 random bits as 24 hex digits, a form every verifier accepts;
    ``now`` gives ``oauth_timestamp``.
    """
    nonce = nonce or secrets.token_hex(12)
    timestamp = int(now.timestamp())
    protocol: list[tuple[str, str]] = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", signature_method.value),
        ("oauth_timestamp", str(timestamp)),
        ("oauth_version", "1.0"),
    ]
    if token is not None:
        protocol.append(("oauth_token", token))
    protocol.extend(params)
    form = is_form_body(content_type)
    hashed: str | None = None
    if not form and (body or method.upper() not in ("GET", "HEAD")):
        hashed = body_hash(body, signature_method)
        protocol.append(("oauth_body_hash", hashed))
    signed = list(protocol) + parse_form(urlsplit(url).query)
    if form:
        signed += parse_form(body.decode("ascii"))
    base_string = signature_base_string(method, url, signed)
    protocol.append(("oauth_signature", sign(base_string, signature_method, consumer_secret)))
    fields = [] if realm is None else [f'realm="{percent_encode(realm)}"']
    fields += [f'{percent_encode(n)}="{percent_encode(v)}"' for n, v in protocol]
    return SignedRequest(
        authorization="OAuth " + ", ".join(fields),
        body_hash=hashed,
        nonce=nonce,
        timestamp=timestamp,
    )

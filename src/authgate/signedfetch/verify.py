"""Verifying an incoming OAuth 1.0a signed request (RFC 5849 §3.2, body hash extension).

Checks, in order: the protocol parameters are present once and in one place, ``oauth_version``
is ``1.0`` when sent, the signature method is supported, the timestamp lies within the window,
the body hash is present exactly when the body needs one and matches it, and the signature
holds for the consumer's secret or public key. Unknown consumer keys are checked against a
stand-in credential so that they cost the same as a wrong signature.

The nonce is *not* checked here: replay protection needs storage shared by all nodes. The
caller records ``(consumer_key, nonce, timestamp)`` only after this function returned.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa

from authgate.signedfetch.body_hash import body_hash_matches
from authgate.signedfetch.errors import InvalidOAuthRequest, InvalidSignature
from authgate.signedfetch.parameters import (
    Placement,
    RequestParameters,
    collect_parameters,
    is_form_body,
)
from authgate.signedfetch.signature import (
    ConsumerCredential,
    RsaVerificationKey,
    SharedSecret,
    SignatureMethod,
    parse_signature_method,
    signature_base_string,
    verify_signature,
)

DEFAULT_WINDOW_SECONDS = 300
MAX_NONCE_LENGTH = 128  # bounds what the replay cache stores per request

_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)
_SIGNATURE_FAILED = "the OAuth signature does not verify for this consumer key and request"

ConsumerLookup = Callable[[str], ConsumerCredential | None]
"""Gives a consumer key's shared secret or RSA public key, or None when the key is unknown."""


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A request whose OAuth 1.0a signature held; record its nonce before acting on it."""

    consumer_key: str
    token: str | None
    nonce: str
    timestamp: int
    signature_method: SignatureMethod
    placement: Placement
    parameters: tuple[tuple[str, str], ...]
    """Every signed request parameter (protocol ones included, ``oauth_signature`` not)."""
    body_hash: str | None


@functools.cache
def _stand_in_secret() -> SharedSecret:
    return SharedSecret(secrets.token_urlsafe(32))


@functools.cache
def _stand_in_rsa_key() -> RsaVerificationKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RsaVerificationKey(key.public_key())


def _header(headers: Mapping[str, str], name: str) -> str | None:
    found = [value for key, value in headers.items() if key.lower() == name]
    if len(found) > 1:
        raise InvalidOAuthRequest(f"the {name} header appears more than once")
    return found[0] if found else None


def _check_timestamp(value: str, now: datetime, window: int) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise InvalidOAuthRequest("oauth_timestamp must be a positive integer of seconds")
    timestamp = int(value)
    skew = timestamp - int(now.timestamp())
    if abs(skew) > window:
        direction = "ahead of" if skew > 0 else "behind"
        raise InvalidSignature(
            f"oauth_timestamp is {abs(skew)} s {direction} the server clock, outside the "
            f"{window} s window; sign with a current timestamp"
        )
    return timestamp


def _check_body_hash(
    protocol: Mapping[str, str], body: bytes, form: bool, method: SignatureMethod
) -> str | None:
    presented = protocol.get("oauth_body_hash")
    if form:
        if presented is not None:
            raise InvalidOAuthRequest(
                "oauth_body_hash must not be sent with a form-encoded body, which the "
                "signature already covers"
            )
        return None
    if presented is None:
        if body:
            raise InvalidOAuthRequest(
                "a request with a non-form body must carry oauth_body_hash (the base64 "
                "digest of the body)"
            )
        return None
    if not body_hash_matches(body, method, presented):
        raise InvalidSignature(
            f"oauth_body_hash does not match the body; for {method.value} it is the base64 "
            f"{'SHA-256' if method is SignatureMethod.HMAC_SHA256 else 'SHA-1'} of the raw body"
        )
    return presented


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A request's OAuth parameters, read but not yet checked (see :func:`parse_request`)."""

    method: str
    url: str
    body: bytes
    form: bool
    parameters: RequestParameters

    @property
    def consumer_key(self) -> str:
        """The consumer key the request claims (``""`` when absent)."""
        return self.parameters.protocol.get("oauth_consumer_key", "")


def parse_request(method: str, url: str, headers: Mapping[str, str], body: bytes) -> ParsedRequest:
    """Read the request's OAuth parameters, so that the caller can look up its consumer.

    Raises InvalidOAuthRequest when they are missing, duplicated or in more than one place.
    """
    content_type = _header(headers, "content-type")
    parameters = collect_parameters(
        _header(headers, "authorization"), urlsplit(url).query, body, content_type
    )
    return ParsedRequest(method, url, body, is_form_body(content_type), parameters)


def check_request(
    request: ParsedRequest,
    credential: ConsumerCredential | None,
    *,
    now: datetime,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> VerifiedRequest:
    """Check a parsed request against its consumer's credential (None: an unknown key).

    Raises InvalidOAuthRequest (400) or InvalidSignature (401).
    """
    protocol = request.parameters.protocol
    for name in _REQUIRED:
        if not protocol.get(name):
            raise InvalidOAuthRequest(f"the protocol parameter {name} is missing or empty")
    version = protocol.get("oauth_version")
    if version is not None and version != "1.0":
        raise InvalidOAuthRequest("oauth_version must be 1.0 when it is sent")
    signature_method = parse_signature_method(protocol["oauth_signature_method"])
    nonce = protocol["oauth_nonce"]
    if len(nonce) > MAX_NONCE_LENGTH:
        raise InvalidOAuthRequest(f"oauth_nonce is longer than {MAX_NONCE_LENGTH} characters")
    timestamp = _check_timestamp(protocol["oauth_timestamp"], now, window)
    presented_body_hash = _check_body_hash(protocol, request.body, request.form, signature_method)

    known = credential is not None
    if credential is None:
        rsa_method = signature_method is SignatureMethod.RSA_SHA1
        credential = _stand_in_rsa_key() if rsa_method else _stand_in_secret()
    base_string = signature_base_string(request.method, request.url, request.parameters.signed)
    valid = verify_signature(base_string, signature_method, protocol["oauth_signature"], credential)
    if not (valid and known):
        raise InvalidSignature(_SIGNATURE_FAILED)
    return VerifiedRequest(
        consumer_key=protocol["oauth_consumer_key"],
        token=protocol.get("oauth_token") or None,
        nonce=nonce,
        timestamp=timestamp,
        signature_method=signature_method,
        placement=request.parameters.placement,
        parameters=request.parameters.signed,
        body_hash=presented_body_hash,
    )


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    find_consumer: ConsumerLookup,
    now: datetime,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> VerifiedRequest:
    """Verify one signed request, or raise InvalidOAuthRequest (400) / InvalidSignature (401).

    ``url`` is the absolute URL as the client addressed it (scheme, host, port, path, query);
    ``now`` is the current time, timezone-aware. ``find_consumer`` is called with the
    request's consumer key once the parameters are well formed.
    """
    parsed = parse_request(method, url, headers, body)
    protocol = parsed.parameters.protocol
    for name in _REQUIRED:
        if not protocol.get(name):
            raise InvalidOAuthRequest(f"the protocol parameter {name} is missing or empty")
    return check_request(parsed, find_consumer(parsed.consumer_key), now=now, window=window)

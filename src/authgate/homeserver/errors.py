"""Errors of the home-server kit, each with a stable code and HTTP status.

The OAuth 1.0a errors are those of :mod:`authgate.signedfetch`: ``invalid_oauth_request``
(400) for a malformed request and ``invalid_signature`` (401) for one whose signature, body
hash or timestamp does not hold. The kit adds what a home server checks beyond the signature:
the identity the gateway asserted, a full nonce store, and the JiveEXTN header scheme; a
replayed nonce is the gateway's own ``replayed_nonce`` (401). Messages
name the parameter at fault and never carry a secret or a signature.
"""

from __future__ import annotations

from authgate.errors import BadRequest, PayloadTooLarge, ServiceUnavailable, Unauthenticated
from authgate.signedfetch.errors import InvalidOAuthRequest, InvalidSignature, ReplayedNonce

__all__ = [
    "InvalidIdentity",
    "InvalidJiveAuthorization",
    "InvalidJiveSignature",
    "InvalidOAuthRequest",
    "InvalidSignature",
    "MissingIdentity",
    "NonceStoreFull",
    "ReplayedNonce",
    "RequestBodyTooLarge",
    "UnsupportedSignatureMethod",
]


class MissingIdentity(BadRequest):
    """The signed request carries no ``opensocial_owner_id``: it did not come through a gateway."""

    code = "missing_owner_id"


class InvalidIdentity(BadRequest):
    """An ``opensocial_*`` identity parameter is ill-formed, repeated or inconsistent."""

    code = "invalid_owner_id"


class UnsupportedSignatureMethod(InvalidOAuthRequest):
    """The signature method is valid OAuth 1.0a but this home server does not accept it."""

    code = "unsupported_signature_method"


class NonceStoreFull(ServiceUnavailable):
    """The in-memory nonce store holds its maximum of unexpired nonces; try again shortly."""

    code = "nonce_store_full"


class RequestBodyTooLarge(PayloadTooLarge):
    """The body is larger than the adapter reads to verify a signature."""

    code = "request_body_too_large"


class InvalidJiveAuthorization(BadRequest):
    """The ``Authorization: JiveEXTN …`` header is malformed or misses a parameter."""

    code = "invalid_jive_authorization"


class InvalidJiveSignature(Unauthenticated):
    """The JiveEXTN header is well formed but its signature or timestamp does not hold."""

    code = "invalid_jive_signature"

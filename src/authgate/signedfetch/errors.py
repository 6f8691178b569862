"""Errors of OAuth 1.0a signed fetch.

A request that is malformed (missing or duplicated protocol parameters, an unsupported
signature method) is a 400 ``invalid_oauth_request``; a well-formed request whose signature,
body hash or timestamp does not hold is a 401 ``invalid_signature``. Messages name the
parameter at fault and never carry a secret, a signature value or any part of the body.
"""

from __future__ import annotations

from authgate.errors import BadRequest, Unauthenticated


class InvalidOAuthRequest(BadRequest):
    """The OAuth 1.0a parameters of the request are malformed, missing or unsupported."""

    code = "invalid_oauth_request"


class InvalidSignature(Unauthenticated):
    """The request is well formed but its signature, body hash or timestamp does not hold."""

    code = "invalid_signature"

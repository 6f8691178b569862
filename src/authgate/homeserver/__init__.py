"""The home-server kit: verify the signed fetches an authgate gateway forwards.

A home server is a third party's service that an app calls through the gateway. The gateway
verifies the caller, adds ``opensocial_owner_id=<user>@<instance>`` and friends, and signs
the request with the app's consumer key and secret (OAuth 1.0a). The kit checks that
signature and hands over the identity::

    from authgate.homeserver import SignedFetchVerifier

    verifier = SignedFetchVerifier({"my-app-key": secret}, on_new_user=provision)
    fetch = verifier.verify(method, url, headers, body)   # SignedFetch, or an error to answer
    fetch.user_id, fetch.instance_id

This package needs only ``cryptography``; the adapters ``authgate.homeserver.starlette``
(Starlette, FastAPI) and ``authgate.homeserver.wsgi`` (Flask, any WSGI) are imported
separately. ``JiveExtnVerifier`` checks the ``Authorization: JiveEXTN …`` scheme.
See docs/homeserver.md.
"""

from __future__ import annotations

from authgate.homeserver.errors import (
    InvalidIdentity,
    InvalidJiveAuthorization,
    InvalidJiveSignature,
    InvalidOAuthRequest,
    InvalidSignature,
    MissingIdentity,
    NonceStoreFull,
    ReplayedNonce,
    RequestBodyTooLarge,
    UnsupportedSignatureMethod,
)
from authgate.homeserver.identity import SignedFetch
from authgate.homeserver.jive import JiveExtnVerifier, JiveIdentity
from authgate.homeserver.keys import rsa_public_key, shared_secret
from authgate.homeserver.nonces import (
    AsyncRedisNonceStore,
    InMemoryNonceStore,
    NonceStore,
    RedisNonceStore,
)
from authgate.homeserver.users import InMemoryKnownUsers, KnownUsers
from authgate.homeserver.verifier import AsyncSignedFetchVerifier, SignedFetchVerifier
from authgate.signedfetch.signature import SignatureMethod

__all__ = [
    "AsyncRedisNonceStore",
    "AsyncSignedFetchVerifier",
    "InMemoryKnownUsers",
    "InMemoryNonceStore",
    "InvalidIdentity",
    "InvalidJiveAuthorization",
    "InvalidJiveSignature",
    "InvalidOAuthRequest",
    "InvalidSignature",
    "JiveExtnVerifier",
    "JiveIdentity",
    "KnownUsers",
    "MissingIdentity",
    "NonceStore",
    "NonceStoreFull",
    "RedisNonceStore",
    "ReplayedNonce",
    "RequestBodyTooLarge",
    "SignatureMethod",
    "SignedFetch",
    "SignedFetchVerifier",
    "UnsupportedSignatureMethod",
    "rsa_public_key",
    "shared_secret",
]

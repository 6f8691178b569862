"""The OAuth Request Body Hash extension (draft-eaton-oauth-bodyhash-00).

``oauth_body_hash`` is the base64 digest of the raw entity body, signed along with the other
parameters, so that a non-form body cannot be swapped. It is SHA-1 for HMAC-SHA1 and
RSA-SHA1 (§3.1 of the draft: the hash of the signature method) and SHA-256 for HMAC-SHA256.
Form-encoded bodies are already covered by the signature and must not carry one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from authgate.signedfetch.signature import SignatureMethod


def body_hash(body: bytes, method: SignatureMethod) -> str:
    """The ``oauth_body_hash`` value of ``body`` under ``method``."""
    digest = hashlib.sha256 if method is SignatureMethod.HMAC_SHA256 else hashlib.sha1
    return base64.b64encode(digest(body).digest()).decode("ascii")


def body_hash_matches(body: bytes, method: SignatureMethod, presented: str) -> bool:
    """Constant-time check of a presented ``oauth_body_hash`` against ``body``."""
    expected = body_hash(body, method).encode("ascii")
    return hmac.compare_digest(expected, presented.encode("utf-8"))

"""ID tokens (OpenID Connect Core §2, §3.1.3.6) and ``id_token_hint`` checks (RP-Initiated
Logout 1.0 §2).

Signed with the client's ``id_token_signed_response_alg``: RS256 (OpenID Connect's default)
or EdDSA. ``at_hash`` is the left half of the access token's hash with the hash of the
signing algorithm: SHA-256 for RS256, SHA-512 for EdDSA over Ed25519 (OpenID Connect Core
errata, as Ed25519 itself hashes with SHA-512).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authgate.clock import Clock
from authgate.errors import InvalidToken
from authgate.identity.models import User
from authgate.provider.claims import user_claims
from authgate.tokens import jws
from authgate.tokens.keyring import Keyring

ID_TOKEN_TYPE = "JWT"
ALGORITHMS = frozenset({"RS256", "EdDSA"})
_HASHES = {"RS256": hashlib.sha256, "EdDSA": hashlib.sha512}


@dataclass(frozen=True, slots=True)
class Authentication:
    """How and when the person signed in (the ID token's ``auth_time``, ``acr``, ``amr``)."""

    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    session_id: str
    """The browser session (``sid``)."""


def token_hash(value: str, algorithm: str) -> str:
    """``at_hash`` of ``value`` for a token signed with ``algorithm`` (Core §3.1.3.6)."""
    digest = _HASHES[algorithm](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).decode("ascii").rstrip("=")


class IdTokens:
    """Issues ID tokens, and reads back the ones a logout request presents."""

    def __init__(self, *, issuer: str, keyring: Keyring, clock: Clock, ttl: int) -> None:
        self.issuer = issuer
        self._keyring = keyring
        self._clock = clock
        self._ttl = ttl

    def issue(
        self,
        *,
        client_id: str,
        algorithm: str,
        user: User,
        scopes: Collection[str],
        authentication: Authentication,
        nonce: str | None,
        access_token: str | None,
    ) -> str:
        """A signed ID token for ``client_id`` about ``user``."""
        now = int(self._clock().timestamp())
        claims: dict[str, Any] = {
            **user_claims(user, scopes),
            "iss": self.issuer,
            "aud": client_id,
            "azp": client_id,
            "exp": now + self._ttl,
            "iat": now,
            "auth_time": int(authentication.auth_time.timestamp()),
            "acr": authentication.acr,
            "amr": list(authentication.amr),
            "sid": authentication.session_id,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            claims["at_hash"] = token_hash(access_token, algorithm)
        return jws.sign(ID_TOKEN_TYPE, claims, self._keyring.signer_for(algorithm))

    def read_hint(self, token: str) -> dict[str, Any]:
        """The claims of an ID token this issuer signed, expired or not (a logout hint may
        be old); InvalidToken for anything else."""
        header, claims = jws.verify(token, self._keyring.verifier, algorithms=ALGORITHMS)
        if header.get("typ") not in (None, ID_TOKEN_TYPE):
            raise InvalidToken("id_token_hint is not an ID token")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("id_token_hint was issued by another issuer")
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("aud"), str):
            raise InvalidToken("id_token_hint lacks sub or aud")
        return claims

"""Access tokens: JWTs per RFC 9068 (JWT profile for OAuth 2.0 access tokens), signed EdDSA.

Claims: ``iss sub aud exp iat jti client_id scope org roles sid``. The ``typ`` header
``at+jwt`` (RFC 9068 §2.1) tells access tokens apart from ID tokens and other JWTs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from authgate.clock import Clock
from authgate.crypto.randomness import UniqueIds
from authgate.errors import InvalidToken
from authgate.tokens import jws
from authgate.tokens.jws import UnknownSigningKey
from authgate.tokens.keyring import Keyring

ACCESS_TOKEN_TYPE = "at+jwt"
CLOCK_SKEW_SECONDS = 30
VERIFIED_CACHE_SIZE = 4096
"""Tokens whose signature and claims were checked, kept per process (see ``verify``)."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access token."""

    subject: str
    org_id: str
    roles: tuple[str, ...]
    client_id: str
    scope: str
    session_id: str | None
    issued_at: int
    expires_at: int
    token_id: str

    @property
    def is_user(self) -> bool:
        """A user's token (a service client's has no session)."""
        return self.session_id is not None


class AccessTokens:
    """Issues and verifies access tokens of one issuer and audience."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        ttl: int,
        keyring: Keyring,
        clock: Clock,
        on_unknown_key: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self._keyring = keyring
        self._clock = clock
        self._on_unknown_key = on_unknown_key
        self._token_ids = UniqueIds()
        self._verified: OrderedDict[str, tuple[str, AccessClaims]] = OrderedDict()

    async def verify_current(self, token: str) -> AccessClaims:
        """:meth:`verify`, reloading the keys once (rate-limited) for an unknown key id.

        Another node may have started signing with a newly rotated key before this one
        reloaded its keys.
        """
        try:
            return self.verify(token)
        except UnknownSigningKey:
            if self._on_unknown_key is None or not await self._on_unknown_key():
                raise
        return self.verify(token)

    def issue(
        self,
        *,
        subject: str,
        org_id: str,
        roles: tuple[str, ...],
        client_id: str,
        scope: str,
        session_id: str | None,
    ) -> str:
        """A signed access token valid for ``ttl`` seconds from now."""
        now = int(self._clock().timestamp())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "exp": now + self.ttl,
            "iat": now,
            "jti": self._token_ids.next(),
            "client_id": client_id,
            "scope": scope,
            "org": org_id,
            "roles": list(roles),
        }
        if session_id is not None:
            payload["sid"] = session_id
        return jws.sign(ACCESS_TOKEN_TYPE, payload, self._keyring.signer())

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid, unexpired access token of this issuer, else InvalidToken.

        A device sends the same token with every request until it expires, so a token that
        passed is remembered (bounded, least recently used first out): the next time only
        its times are checked again, and that its key is still published. The signature check
        is most of the cost of a verification.
        """
        known = self._verified.get(token)
        if known is not None:
            kid, verified = known
            if self._keyring.verifier(kid) is not None:
                self._verified.move_to_end(token)
                _check_times(verified.expires_at, verified.issued_at, self._now())
                return verified
            del self._verified[token]
        claims = self._verify_signed(token)
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims[1]

    def _now(self) -> int:
        return int(self._clock().timestamp())

    def _verify_signed(self, token: str) -> tuple[str, AccessClaims]:
        header, claims = jws.verify(token, self._keyring.verifier)
        if header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidToken("the token is not an access token")
        if claims.get("iss") != self.issuer:
            raise InvalidToken("the token was issued by another issuer")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.audience not in audiences:
            raise InvalidToken("the token is meant for another audience")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise InvalidToken("the token lacks numeric exp and iat claims")
        _check_times(exp, iat, self._now())
        return str(header["kid"]), _claims(claims, exp, iat)


def _check_times(exp: int, iat: int, now: int) -> None:
    if exp <= now - CLOCK_SKEW_SECONDS:
        raise InvalidToken("the token has expired")
    if iat > now + CLOCK_SKEW_SECONDS:
        raise InvalidToken("the token was issued in the future")


def _claims(claims: dict[str, Any], exp: int, iat: int) -> AccessClaims:
    subject, org_id, client_id = claims.get("sub"), claims.get("org"), claims.get("client_id")
    roles, scope, sid, jti = (
        claims.get("roles"),
        claims.get("scope"),
        claims.get("sid"),
        claims.get("jti"),
    )
    if not (isinstance(subject, str) and isinstance(org_id, str) and isinstance(client_id, str)):
        raise InvalidToken("the token lacks sub, org or client_id")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("the token's roles claim is malformed")
    if not isinstance(scope, str) or not isinstance(jti, str):
        raise InvalidToken("the token lacks scope or jti")
    if sid is not None and not isinstance(sid, str):
        raise InvalidToken("the token's sid claim is malformed")
    return AccessClaims(subject, org_id, tuple(roles), client_id, scope, sid, iat, exp, jti)

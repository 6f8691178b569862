"""ID token validation: OpenID Connect Core 1.0 §3.1.3.7 (and §2, §10.1), RFC 7515, RFC 8725.

In order, each failure its own :class:`InvalidIdToken`:

1. a compact JWS of bounded size, header and payload JSON objects, no ``crit``, a ``typ``
   of ``JWT`` if any (an access token, ``at+jwt``, is not an ID token);
2. ``alg`` one of the IdP's asymmetric algorithms (never ``none`` nor HMAC, RFC 8725 §3.1);
3. the signature, by a key of the IdP's JWK set chosen by ``kid`` (one rate-limited refetch
   for an unknown ``kid``, see :mod:`authgate.federation.jwks`);
4. ``iss`` exactly the IdP's issuer (for an Entra ID template, the issuer of the token's
   ``tid``, which must be an allowed tenant);
5. ``aud`` holds the client id, and ``azp`` is the client id when there are several audiences;
6. ``exp`` in the future, ``iat`` and ``nbf`` not in the future, ``iat`` recent (with
   :data:`LEEWAY` for clock skew);
7. ``nonce`` equal to the one the login sent (compared in constant time);
8. ``sub`` (and for Entra ID ``oid`` and ``tid``) present.
"""

from __future__ import annotations

import base64
import hmac
import json
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError, SecurityWarning

from authgate.federation.errors import InvalidIdToken
from authgate.federation.jwks import Key
from authgate.federation.metadata import GUID, SIGNING_ALGORITHMS, ProviderMetadata
from authgate.federation.models import IdpType, IdTokenClaims

MAX_TOKEN_CHARS = 16 * 1024
MAX_CLAIM_CHARS = 512
LEEWAY = timedelta(seconds=60)
MAX_AGE = timedelta(minutes=10)
"""An ID token issued longer ago than this is refused (a login never takes that long)."""

FindKey = Callable[[str, str | None, str], Awaitable[Key | None]]
"""(jwks_uri, kid, alg) → the verifying key, or None."""


@dataclass(frozen=True, slots=True)
class Expected:
    """What one login expects of the token."""

    idp_type: IdpType
    metadata: ProviderMetadata
    audience: str
    nonce: str | None
    tenants: frozenset[str]
    now: datetime


async def validate(token: str, expected: Expected, find_key: FindKey) -> IdTokenClaims:
    """The claims of a valid ID token, or :class:`InvalidIdToken` naming the failed check."""
    header, payload = _split(token)
    alg = header.get("alg")
    if alg not in SIGNING_ALGORITHMS or alg not in expected.metadata.signing_algorithms:
        raise InvalidIdToken("the ID token is signed with an algorithm this IdP may not use")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidIdToken("the ID token's kid is not a string")
    key = await find_key(expected.metadata.jwks_uri, kid, alg)
    if key is None:
        raise InvalidIdToken("the ID token was signed by a key the IdP does not publish")
    try:
        with warnings.catch_warnings():
            # joserfc warns that RFC 9864 deprecates "EdDSA": the IdP's choice, accepted.
            warnings.simplefilter("ignore", SecurityWarning)
            jws.deserialize_compact(token, key, algorithms=[alg])
    except (JoseError, ValueError):
        raise InvalidIdToken("the ID token's signature is invalid") from None
    tenant = _tenant(payload, expected)
    _check_issuer(payload, expected, tenant)
    _check_audience(payload, expected.audience)
    _check_times(payload, expected.now)
    _check_nonce(payload, expected.nonce)
    return _claims(payload, expected, tenant)


def _b64_json(part: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidIdToken(f"the ID token's {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise InvalidIdToken(f"the ID token's {what} is not a JSON object")
    return value


def _split(token: object) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidIdToken(f"the ID token must be a JWS of at most {MAX_TOKEN_CHARS} characters")
    if not token.isascii():
        raise InvalidIdToken("the ID token holds characters outside base64url")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise InvalidIdToken("the ID token is not a compact JWS (three dot-separated parts)")
    header = _b64_json(parts[0], "header")
    if "crit" in header:
        raise InvalidIdToken("the ID token has critical header parameters authgate does not know")
    typ = header.get("typ")
    if typ is not None and (
        not isinstance(typ, str) or typ.lower() not in ("jwt", "application/jwt")
    ):
        raise InvalidIdToken("the token is not an ID token (its typ is not JWT)")
    return header, _b64_json(parts[1], "payload")


def _text(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    if isinstance(value, str) and 0 < len(value) <= MAX_CLAIM_CHARS:
        return value
    return None


def _tenant(payload: dict[str, Any], expected: Expected) -> str | None:
    if expected.idp_type is not IdpType.ENTRA:
        return None
    tenant = (_text(payload, "tid") or "").lower()
    if not GUID.fullmatch(tenant):
        raise InvalidIdToken("the ID token has no tenant id (tid)")
    if tenant not in expected.tenants:
        raise InvalidIdToken("the ID token is from a tenant this IdP configuration does not allow")
    return tenant


def _check_issuer(payload: dict[str, Any], expected: Expected, tenant: str | None) -> None:
    wanted = expected.metadata.issuer_for(tenant)
    iss = payload.get("iss")
    if wanted is None or not isinstance(iss, str) or iss != wanted:
        raise InvalidIdToken("the ID token's issuer (iss) is not this IdP")


def _check_audience(payload: dict[str, Any], client_id: str) -> None:
    aud = payload.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or client_id not in audiences:
        raise InvalidIdToken("the ID token was issued to another client (aud)")
    azp = payload.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise InvalidIdToken("the ID token's authorized party (azp) is another client")


def _number(payload: dict[str, Any], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidIdToken(f"the ID token's {name} is not a number")
    return float(value)


def _required(payload: dict[str, Any], name: str) -> float:
    value = _number(payload, name)
    if value is None:
        raise InvalidIdToken(f"the ID token has no {name}")
    return value


def _check_times(payload: dict[str, Any], now: datetime) -> None:
    at = now.timestamp()
    leeway = LEEWAY.total_seconds()
    exp, iat, nbf = _required(payload, "exp"), _required(payload, "iat"), _number(payload, "nbf")
    if exp <= at - leeway:
        raise InvalidIdToken("the ID token has expired (exp)")
    if iat > at + leeway or (nbf is not None and nbf > at + leeway):
        raise InvalidIdToken("the ID token is not valid yet (iat or nbf is in the future)")
    if iat < at - (MAX_AGE + LEEWAY).total_seconds():
        raise InvalidIdToken("the ID token was issued too long ago (iat); sign in again")


def _check_nonce(payload: dict[str, Any], nonce: str | None) -> None:
    claimed = payload.get("nonce")
    if nonce is None:
        if claimed is not None:
            raise InvalidIdToken("the ID token carries a nonce this login did not send")
        return
    if not isinstance(claimed, str) or not hmac.compare_digest(
        claimed.encode("utf-8"), nonce.encode("utf-8")
    ):
        raise InvalidIdToken("the ID token's nonce is not the one this login sent")


def _claims(payload: dict[str, Any], expected: Expected, tenant: str | None) -> IdTokenClaims:
    subject = _text(payload, "sub")
    if subject is None or len(subject) > 255:
        raise InvalidIdToken("the ID token has no subject (sub) of at most 255 characters")
    object_id = None
    if expected.idp_type is IdpType.ENTRA:
        object_id = _text(payload, "oid")
        if object_id is None:
            raise InvalidIdToken("the ID token has no object id (oid)")
    return IdTokenClaims(
        issuer=str(payload["iss"]),
        subject=subject,
        tenant=tenant,
        object_id=object_id,
        email=_text(payload, "email"),
        email_verified=payload.get("email_verified") is True,
        name=_text(payload, "name"),
        preferred_username=_text(payload, "preferred_username"),
    )

"""JWS compact serialization (RFC 7515 §7.1) for EdDSA over Ed25519 (RFC 8037 §3.1) and
RS256 (RFC 7518 §3.3).

Only what authgate issues is accepted: the ``alg`` is one the caller allows (access tokens:
``EdDSA`` only), so ``none`` and HS256-with-our-public-key are refused before any key is
touched; the ``kid`` must name a key we hold, and the ``alg`` must be that key's own (an
RS256 header over an Ed25519 key, or the reverse, is refused); every part must be canonical
base64url of a JSON object.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import orjson

from authgate.crypto.signing import Signer, Verifier, b64url_decode, b64url_encode
from authgate.errors import InvalidToken

ALGORITHM = "EdDSA"
"""The algorithm of access tokens, and what :func:`verify` accepts unless told otherwise."""
ACCESS_ALGORITHMS = frozenset({ALGORITHM})
MAX_TOKEN_LENGTH = 8192


class UnknownSigningKey(InvalidToken):
    """The ``kid`` names no key this node holds (perhaps one rotated in on another node)."""


@lru_cache(maxsize=64)
def _protected_header(typ: str, alg: str, kid: str) -> str:
    # The header is the same for every token of one key: encode it once.
    return b64url_encode(orjson.dumps({"typ": typ, "alg": alg, "kid": kid}))


def sign(typ: str, payload: Mapping[str, Any], signer: Signer) -> str:
    """Serialize and sign with header ``{typ, alg, kid}``, ``alg`` being the signer's own."""
    header = _protected_header(typ, signer.algorithm, signer.kid)
    signing_input = f"{header}.{b64url_encode(orjson.dumps(payload))}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(b64url_decode(part))
    except (ValueError, UnicodeDecodeError, orjson.JSONDecodeError):
        raise InvalidToken(f"the token's {what} is not base64url-encoded JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"the token's {what} is not a JSON object")
    return value


def verify(
    token: str,
    find_key: Callable[[str], Verifier | None],
    algorithms: frozenset[str] = ACCESS_ALGORITHMS,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check structure, algorithm, key and signature; return (header, payload).

    The header's ``alg`` must be in ``algorithms`` and be the algorithm of the key its
    ``kid`` names.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("the token is too long")
    if not token.isascii():
        raise InvalidToken("the token holds characters outside base64url")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("the token is not a compact JWS (three dot-separated parts)")
    header = _json_object(parts[0], "header")
    alg = header.get("alg")
    # isinstance first: an unhashable alg (a list, an object) must not reach the set lookup.
    if not isinstance(alg, str) or alg not in algorithms:
        raise InvalidToken("the token's algorithm is not accepted")
    if "crit" in header:
        raise InvalidToken("the token has critical header parameters authgate does not know")
    kid = header.get("kid")
    key = find_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise UnknownSigningKey("the token was not signed by a key of this issuer")
    if key.algorithm != alg:
        raise InvalidToken("the token's algorithm is not the one of its key")
    try:
        signature = b64url_decode(parts[2])
    except ValueError:
        raise InvalidToken("the token's signature is not base64url") from None
    if not key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii")):
        raise InvalidToken("the token's signature is invalid")
    return header, _json_object(parts[1], "payload")

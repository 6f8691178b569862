"""The ``JiveEXTN`` header scheme: a Jive instance vouches for itself to an add-on service.

The header is ``Authorization: JiveEXTN algorithm=HmacSHA256&client_id=…&jive_url=…&
tenant_id=…&timestamp=…&signature=…``. As the Jive add-on SDKs (Node, Java, Ruby) check it:

* the signed text is the header's parameter string exactly as sent, from ``algorithm`` up to
  (not including) ``&signature=``; ``signature`` is therefore the last parameter;
* the signature is the base64 HMAC-SHA256 of that text (UTF-8), keyed with the add-on's
  client secret *base64-decoded* (Jive secrets such as ``…e1.s`` decode leniently: characters
  outside the base64 alphabet are skipped, and a dangling sixth of a byte is dropped);
* ``timestamp`` is in milliseconds since the epoch, at most five minutes old.

Checked here, in order: the scheme; each of ``algorithm``, ``client_id``, ``jive_url``,
``tenant_id``, ``timestamp`` and ``signature`` present exactly once and non-empty, values
percent-decoded strictly; ``algorithm`` is ``HmacSHA256``; the timestamp is no older than
``window`` seconds and no more than ``max_future`` seconds ahead (the SDKs allow none ahead;
a few seconds spare a container whose clock runs fast); then the signature, compared in
constant time, with an unknown client id checked against a stand-in secret so that it costs the
same. The scheme signs neither the method, the URL nor the body, and has no nonce: a header can
be replayed within its window. Pass a nonce store to accept each header once.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from authgate.homeserver.errors import (
    InvalidJiveAuthorization,
    InvalidJiveSignature,
    ReplayedNonce,
)
from authgate.homeserver.nonces import NonceStore
from authgate.signedfetch.errors import InvalidOAuthRequest
from authgate.signedfetch.parameters import percent_decode

SCHEME = "JiveEXTN"
ALGORITHM = "HmacSHA256"
REQUIRED = ("algorithm", "client_id", "jive_url", "tenant_id", "timestamp")
DEFAULT_WINDOW_SECONDS = 300
DEFAULT_MAX_FUTURE_SECONDS = 30
MAX_HEADER_LENGTH = 4096
_SCHEME = re.compile(r"[ \t]*JiveEXTN[ \t]+", re.IGNORECASE)
_SIGNATURE_MARK = "&signature="
_SIGNATURE_FAILED = "the JiveEXTN signature does not verify for this client id"
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")

SecretLookup = Callable[[str, str], str | None]
"""Gives the client secret of ``(client_id, tenant_id)``, or None when it is unknown."""


@dataclass(frozen=True, slots=True)
class JiveIdentity:
    """A verified JiveEXTN header: which Jive instance (tenant) called, as which add-on."""

    client_id: str
    tenant_id: str
    jive_url: str
    timestamp_ms: int


def jive_secret_key(client_secret: str) -> bytes:
    """The HMAC key of a client secret: its lenient base64 decoding, as the Jive SDKs do."""
    text = client_secret.split("=", 1)[0].replace("-", "+").replace("_", "/")
    text = _NOT_BASE64.sub("", text)
    text = text[: len(text) - len(text) % 4] if len(text) % 4 == 1 else text
    return base64.b64decode(text + "=" * (-len(text) % 4))


def sign_jive_text(text: str, client_secret: str) -> str:
    """The base64 HMAC-SHA256 signature of ``text`` (the header up to ``&signature=``)."""
    digest = hmac.digest(jive_secret_key(client_secret), text.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(digest).decode("ascii")


def jive_authorization(
    client_id: str, tenant_id: str, jive_url: str, timestamp_ms: int, client_secret: str
) -> str:
    """An ``Authorization`` value as a Jive instance sends it (for tests and tools)."""
    text = (
        f"algorithm={ALGORITHM}&client_id={_encode(client_id)}&jive_url={_encode(jive_url)}"
        f"&tenant_id={_encode(tenant_id)}&timestamp={timestamp_ms}"
    )
    signature = _encode(sign_jive_text(text, client_secret))
    return f"{SCHEME} {text}{_SIGNATURE_MARK}{signature}"


def _encode(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True, slots=True)
class _Parsed:
    signed_text: str
    values: dict[str, str]
    signature: str


def parse_jive_authorization(header: str) -> _Parsed:
    """The signed text and decoded parameters of a JiveEXTN header, or a precise 400."""
    if len(header) > MAX_HEADER_LENGTH:
        raise InvalidJiveAuthorization(
            f"the JiveEXTN header is longer than {MAX_HEADER_LENGTH} characters"
        )
    scheme = _SCHEME.match(header)
    if scheme is None:
        raise InvalidJiveAuthorization("the Authorization header does not use the JiveEXTN scheme")
    text = header[scheme.end() :].rstrip(" \t")
    cut = text.rfind(_SIGNATURE_MARK)
    if cut < 0:
        raise InvalidJiveAuthorization(
            "the JiveEXTN header carries no signature; it must end with &signature=…"
        )
    values: dict[str, str] = {}
    for piece in text.split("&"):
        name, equals, raw = piece.partition("=")
        if not equals or not name:
            raise InvalidJiveAuthorization(
                "the JiveEXTN header must be name=value pairs joined by '&'"
            )
        try:
            decoded = percent_decode(raw)
        except InvalidOAuthRequest as exc:
            raise InvalidJiveAuthorization(f"JiveEXTN parameter {name[:40]}: {exc}") from None
        if name in values:
            raise InvalidJiveAuthorization(
                f"the JiveEXTN parameter {name[:40]} appears more than once"
            )
        values[name] = decoded
    signature = values.pop("signature", "")
    if "&" in text[cut + 1 :]:
        raise InvalidJiveAuthorization("signature must be the last JiveEXTN parameter")
    for name in (*REQUIRED, "signature"):
        if not (signature if name == "signature" else values.get(name)):
            raise InvalidJiveAuthorization(f"the JiveEXTN parameter {name} is missing or empty")
    return _Parsed(signed_text=text[:cut], values=values, signature=signature)


@functools.cache
def _stand_in_secret() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class JiveExtnVerifier:
    """Verifies ``Authorization: JiveEXTN …`` headers (see the module's documentation).

    ``clients`` maps client ids to client secrets, or is a function of ``(client_id,
    tenant_id)`` giving the secret or None. ``nonces``, when given, makes each header
    single-use (keyed by client id and signature, kept for the window).
    """

    def __init__(
        self,
        clients: Mapping[str, str] | SecretLookup,
        *,
        window: int = DEFAULT_WINDOW_SECONDS,
        max_future: int = DEFAULT_MAX_FUTURE_SECONDS,
        clock: Callable[[], datetime] | None = None,
        nonces: NonceStore | None = None,
    ) -> None:
        if window < 1 or max_future < 0:
            raise ValueError("window must be positive and max_future not negative")
        if isinstance(clients, Mapping):
            table = dict(clients)
            self._find: SecretLookup = lambda client_id, _tenant: table.get(client_id)
        else:
            self._find = clients
        self._window = window
        self._max_future = max_future
        self._clock = clock or (lambda: datetime.now(UTC))
        self._nonces = nonces

    def verify(self, authorization: str) -> JiveIdentity:
        """The identity of a valid header, or InvalidJiveAuthorization / InvalidJiveSignature."""
        parsed = parse_jive_authorization(authorization)
        values = parsed.values
        if values["algorithm"].lower() != ALGORITHM.lower():
            raise InvalidJiveAuthorization(
                f"JiveEXTN algorithm {values['algorithm'][:40]!r} is not supported; use {ALGORITHM}"
            )
        stamp = values["timestamp"]
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 15:
            raise InvalidJiveAuthorization(
                "the JiveEXTN timestamp must be milliseconds since the epoch"
            )
        timestamp_ms = int(stamp)
        now_ms = int(self._clock().timestamp() * 1000)
        age = (now_ms - timestamp_ms) // 1000
        if age > self._window:
            raise InvalidJiveSignature(
                f"the JiveEXTN timestamp is {age} s old, older than the {self._window} s allowed"
            )
        if -age > self._max_future:
            raise InvalidJiveSignature(
                f"the JiveEXTN timestamp is {-age} s ahead of the server clock, more than the "
                f"{self._max_future} s allowed"
            )
        client_id, tenant_id = values["client_id"], values["tenant_id"]
        secret = self._find(client_id, tenant_id)
        expected = sign_jive_text(parsed.signed_text, secret or _stand_in_secret())
        try:
            presented = base64.b64decode(parsed.signature.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            presented = b""
        valid = hmac.compare_digest(base64.b64decode(expected), presented)
        if not (valid and secret):
            raise InvalidJiveSignature(_SIGNATURE_FAILED)
        if self._nonces is not None and not self._nonces.record(
            client_id, parsed.signature, self._window + self._max_future + 1
        ):
            raise ReplayedNonce("this JiveEXTN header was already used; sign each request afresh")
        return JiveIdentity(
            client_id=client_id,
            tenant_id=tenant_id,
            jive_url=values["jive_url"],
            timestamp_ms=timestamp_ms,
        )

    def verify_headers(self, headers: Mapping[str, str]) -> JiveIdentity:
        """:meth:`verify` on the request's one ``Authorization`` header."""
        found = [value for name, value in headers.items() if name.lower() == "authorization"]
        if len(found) != 1:
            raise InvalidJiveAuthorization(
                "send exactly one Authorization header with the JiveEXTN scheme"
            )
        return self.verify(found[0])

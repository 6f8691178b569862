"""RFC 5849 §3.4: the signature base string and the HMAC-SHA1, HMAC-SHA256 and RSA-SHA1 methods.

The base string (§3.4.1) is the upper-cased method, the base string URI (§3.4.1.2) and the
normalised request parameters (§3.4.1.3.2), each percent-encoded per §3.6 and joined by ``&``.
HMAC methods (§3.4.2; HMAC-SHA256 as registered since) key on the encoded consumer secret and
token secret; RSA-SHA1 (§3.4.3) is RSASSA-PKCS1-v1_5 over SHA-1. PLAINTEXT (§3.4.4) sends the
secret itself and is refused, as is every method not named here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from authgate.signedfetch.errors import InvalidOAuthRequest

_DEFAULT_PORTS = {"http": 80, "https": 443}


class SignatureMethod(StrEnum):
    """The signature methods authgate signs and verifies."""

    HMAC_SHA1 = "HMAC-SHA1"
    HMAC_SHA256 = "HMAC-SHA256"
    RSA_SHA1 = "RSA-SHA1"


def parse_signature_method(value: str) -> SignatureMethod:
    """The method named by ``oauth_signature_method``; PLAINTEXT and unknown names refused."""
    try:
        return SignatureMethod(value)
    except ValueError:
        pass
    supported = ", ".join(m.value for m in SignatureMethod)
    if value == "PLAINTEXT":
        raise InvalidOAuthRequest(
            f"oauth_signature_method PLAINTEXT is refused because it sends the secret itself; "
            f"sign with one of {supported}"
        )
    raise InvalidOAuthRequest(
        f"oauth_signature_method {value[:40]!r} is not supported; use one of {supported}"
    )


@dataclass(frozen=True, slots=True)
class SharedSecret:
    """The secrets of an HMAC signature: the consumer's and, when a token is used, its own."""

    consumer_secret: str = field(repr=False)
    token_secret: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class RsaVerificationKey:
    """A consumer's RSA public key, checking RSA-SHA1 signatures."""

    public_key: RSAPublicKey


@dataclass(frozen=True, slots=True)
class RsaSigningKey:
    """An RSA private key, making RSA-SHA1 signatures."""

    private_key: RSAPrivateKey = field(repr=False)


ConsumerCredential = SharedSecret | RsaVerificationKey
"""What verification needs to know about a consumer: its shared secret or its RSA public key."""

SigningCredential = SharedSecret | RsaSigningKey
"""What signing needs: the shared secret or the RSA private key."""


def percent_encode(value: str) -> str:
    """§3.6: UTF-8, then every octet outside ALPHA, DIGIT, ``-``, ``.``, ``_``, ``~`` as %XX."""
    # quote() always leaves exactly the RFC 3986 unreserved set alone and uses upper-case hex.
    return quote(value, safe="")


def base_string_uri(url: str) -> str:
    """§3.4.1.2: scheme and host lower-cased, default port dropped, no query or fragment."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidOAuthRequest("the request URL must be an absolute http or https URL")
    host = parts.hostname
    if not host:
        raise InvalidOAuthRequest("the request URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise InvalidOAuthRequest("the request URL has an invalid port") from None
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets in the authority
    authority = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{authority}{parts.path or '/'}"


def normalize_parameters(parameters: Iterable[tuple[str, str]]) -> str:
    """§3.4.1.3.2: encode names and values, sort by name then value, join with ``=`` and ``&``.

    Duplicates are kept; sorting is by the encoded octets, as the RFC requires.
    """
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in parameters)
    return "&".join(f"{name}={value}" for name, value in encoded)


def signature_base_string(method: str, url: str, parameters: Iterable[tuple[str, str]]) -> str:
    """§3.4.1.1: ``METHOD&encoded-base-string-URI&encoded-normalised-parameters``.

    ``parameters`` are every request parameter of §3.4.1.3.1 except ``oauth_signature`` and
    the header's ``realm``.
    """
    return "&".join(
        (
            percent_encode(method.upper()),
            percent_encode(base_string_uri(url)),
            percent_encode(normalize_parameters(parameters)),
        )
    )


def _hmac_signature(base_string: str, method: SignatureMethod, secret: SharedSecret) -> bytes:
    key = f"{percent_encode(secret.consumer_secret)}&{percent_encode(secret.token_secret)}"
    digest = hashlib.sha256 if method is SignatureMethod.HMAC_SHA256 else hashlib.sha1
    return hmac.digest(key.encode("utf-8"), base_string.encode("utf-8"), digest)


def sign(base_string: str, method: SignatureMethod, credential: SigningCredential) -> str:
    """The base64 ``oauth_signature`` of ``base_string`` (§3.4.2, §3.4.3)."""
    if method is SignatureMethod.RSA_SHA1:
        if not isinstance(credential, RsaSigningKey):
            raise TypeError("RSA-SHA1 signs with an RsaSigningKey")
        # RSA-SHA1 is what RFC 5849 §3.4.3 defines; SHA-1 is its algorithm, not our choice.
        raw = credential.private_key.sign(
            base_string.encode("utf-8"),
            padding.PKCS1v15(),
            hashes.SHA1(),  # noqa: S303
        )
    else:
        if not isinstance(credential, SharedSecret):
            raise TypeError(f"{method.value} signs with a SharedSecret")
        raw = _hmac_signature(base_string, method, credential)
    return base64.b64encode(raw).decode("ascii")


def verify_signature(
    base_string: str, method: SignatureMethod, signature: str, credential: ConsumerCredential
) -> bool:
    """Whether ``signature`` is valid for ``base_string``; HMACs are compared in constant time.

    A credential of the wrong kind for ``method`` never verifies, but HMAC work is still done
    so that the answer takes the same time.
    """
    try:
        presented = base64.b64decode(signature.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        presented = b""
    if method is SignatureMethod.RSA_SHA1:
        if not isinstance(credential, RsaVerificationKey) or not presented:
            return False
        try:
            credential.public_key.verify(
                presented,
                base_string.encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA1(),  # noqa: S303
            )
        except _CryptoInvalidSignature:
            return False
        return True
    secret = credential if isinstance(credential, SharedSecret) else SharedSecret("")
    expected = _hmac_signature(base_string, method, secret)
    return hmac.compare_digest(expected, presented) and isinstance(credential, SharedSecret)

"""Checks of what an administrator registers: names, consumer keys, secrets, keys and URLs.

Messages name the field and what is accepted; they never repeat a secret.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from authgate.signedfetch.errors import InvalidRegistration
from authgate.signedfetch.keys import NotAnRsaKey, read_rsa_public_key
from authgate.signedfetch.registry import AppSpec, ContainerSpec
from authgate.signedfetch.signature import SignatureMethod
from authgate.vault.errors import InvalidCredential
from authgate.vault.validation import check_url

NAME = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
INSTANCE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CONSUMER_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
MIN_SECRET_CHARS = 16
MAX_SECRET_CHARS = 1024
MAX_HOME_SERVERS = 20
MAX_DESCRIPTION = 500
MIN_RSA_BITS = 2048


def check_name(field: str, value: str) -> str:
    """A container name or app id: 1 to 128 letters, digits, ``.``, ``-`` or ``_``."""
    if not NAME.fullmatch(value):
        raise InvalidRegistration(
            f"{field} must be 1 to 128 letters, digits, '.', '-' or '_' (e.g. myplanner)"
        )
    return value


def check_consumer_key(value: str) -> str:
    """Printable ASCII without spaces, 1 to 255 characters."""
    if not CONSUMER_KEY.fullmatch(value):
        raise InvalidRegistration(
            "consumerKey must be 1 to 255 printable ASCII characters without spaces"
        )
    return value


def check_secret(field: str, value: str) -> str:
    """A shared secret long enough to resist guessing, without control characters."""
    if not MIN_SECRET_CHARS <= len(value) <= MAX_SECRET_CHARS or not value.isprintable():
        raise InvalidRegistration(
            f"{field} must be {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} printable characters; "
            "generate one with `openssl rand -base64 32`"
        )
    return value


def check_instance_id(value: str) -> str:
    """An instance id: no ``@``, since it is what follows the last ``@`` of an owner id."""
    if not INSTANCE_ID.fullmatch(value):
        raise InvalidRegistration(
            "instanceId must be 1 to 128 letters, digits, '.', ':', '-' or '_' (no '@')"
        )
    return value


def check_description(value: str) -> str:
    """At most 500 characters."""
    if len(value) > MAX_DESCRIPTION:
        raise InvalidRegistration(f"description must be at most {MAX_DESCRIPTION} characters")
    return value


def load_rsa_public_key(pem: str) -> RSAPublicKey:
    """An RSA public key of at least 2048 bits, from a PEM public key or certificate."""
    try:
        key = read_rsa_public_key(pem)
    except NotAnRsaKey:
        raise InvalidRegistration(
            f"publicKey must be an RSA key of at least {MIN_RSA_BITS} bits"
        ) from None
    except ValueError:
        raise InvalidRegistration(
            "publicKey must be a PEM RSA public key (-----BEGIN PUBLIC KEY-----) or a PEM "
            "certificate holding one"
        ) from None
    if key.key_size < MIN_RSA_BITS:
        raise InvalidRegistration(f"publicKey must be an RSA key of at least {MIN_RSA_BITS} bits")
    return key


def normalise_public_key(pem: str) -> str:
    """The key as a SubjectPublicKeyInfo PEM, whatever form it was submitted in."""
    key = load_rsa_public_key(pem)
    encoded = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded.decode("ascii")


def check_container(spec: ContainerSpec) -> ContainerSpec:
    """``spec`` with exactly one of secret and public key; the key normalised."""
    check_consumer_key(spec.consumer_key)
    check_description(spec.description)
    if spec.instance_id is not None:
        check_instance_id(spec.instance_id)
    if (spec.secret is None) == (spec.public_key_pem is None):
        raise InvalidRegistration(
            "give exactly one of secret (HMAC-SHA1 and HMAC-SHA256 signatures) and publicKey "
            "(RSA-SHA1 signatures)"
        )
    if spec.secret is not None:
        check_secret("secret", spec.secret)
        return spec
    assert spec.public_key_pem is not None
    return ContainerSpec(
        consumer_key=spec.consumer_key,
        public_key_pem=normalise_public_key(spec.public_key_pem),
        instance_id=spec.instance_id,
        description=spec.description,
    )


def check_base_url(field: str, url: str) -> str:
    """An https base URL (http for loopback) without query or fragment; no trailing ``/``."""
    try:
        check_url(field, url)
    except InvalidCredential as error:
        raise InvalidRegistration(str(error)) from None
    parts = urlsplit(url)
    if parts.query:
        raise InvalidRegistration(f"{field} must not carry a query; give the base URL only")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def check_app_url(url: str) -> str:
    """The app's URL (its gadget XML, say): https (http on loopback); a query is allowed."""
    try:
        return check_url("appUrl", url)
    except InvalidCredential as error:
        raise InvalidRegistration(str(error)) from None


def check_app(spec: AppSpec, *, secret_required: bool) -> AppSpec:
    """``spec`` with its URLs normalised, or InvalidRegistration naming the field."""
    check_consumer_key(spec.consumer_key)
    check_description(spec.description)
    if spec.signature_method is SignatureMethod.RSA_SHA1:
        raise InvalidRegistration(
            "signatureMethod of an app is HMAC-SHA1 or HMAC-SHA256: the gateway signs with "
            "the app's consumer secret"
        )
    if spec.consumer_secret is None:
        if secret_required:
            raise InvalidRegistration("consumerSecret is required when an app is registered")
    else:
        check_secret("consumerSecret", spec.consumer_secret)
    if not 1 <= len(spec.home_servers) <= MAX_HOME_SERVERS:
        raise InvalidRegistration(
            f"homeServers must list 1 to {MAX_HOME_SERVERS} base URLs the gateway may call"
        )
    servers = tuple(dict.fromkeys(check_base_url("homeServers", u) for u in spec.home_servers))
    return AppSpec(
        app_url=check_app_url(spec.app_url),
        home_servers=servers,
        consumer_key=spec.consumer_key,
        consumer_secret=spec.consumer_secret,
        signature_method=spec.signature_method,
        description=spec.description,
    )

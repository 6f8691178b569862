"""The deployment's root key and the purpose-bound keys derived from it (HKDF-SHA256).

The root key comes from the ``secret_key`` setting. On the embedded SQLite default, when
none is set, one is generated once into ``<data_dir>/secret.key`` (mode 0600), so a first
start needs no configuration. Every node of a PostgreSQL deployment must share one root key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authgate.errors import ConfigurationError

ROOT_KEY_FILE = "secret.key"


MIN_KEY_BYTES = 32


def decode_root_key(text: str, source: str = "AUTHGATE_SECRET_KEY") -> bytes:
    """Accept base64/base64url of 32+ bytes, or any text of 32+ characters."""
    stripped = text.strip()
    try:
        raw = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
        if len(raw) >= MIN_KEY_BYTES:
            return raw
    except (binascii.Error, ValueError):
        pass
    encoded = stripped.encode("utf-8")
    if len(encoded) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the root key from {source} is shorter than {MIN_KEY_BYTES} bytes. Fix: set it to "
            "32+ random bytes, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
        )
    return encoded


def load_or_create_root_key(secret_key: str | None, data_dir: Path, *, may_create: bool) -> bytes:
    """The root key from the setting, or the data directory's key file (created if allowed)."""
    if secret_key is not None:
        return decode_root_key(secret_key)
    path = data_dir / ROOT_KEY_FILE
    if path.exists():
        return decode_root_key(path.read_text(encoding="ascii"), str(path))
    if not may_create:
        raise ConfigurationError(
            "secret_key is not set: a shared database needs the same root key on every node. "
            "Fix: set AUTHGATE_SECRET_KEY (or AUTHGATE_SECRET_KEY_FILE) to 32+ random bytes, "
            "e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    encoded = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode("ascii")
    # Written whole to a private temporary file, then linked into place: link() fails if the
    # key exists, so two processes starting at once agree on one key and neither ever reads
    # a half-written file.
    temporary = data_dir / f".{ROOT_KEY_FILE}.{secrets.token_hex(8)}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(encoded + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return decode_root_key(path.read_text(encoding="ascii"), str(path))
    finally:
        temporary.unlink(missing_ok=True)
    return decode_root_key(encoded)


def derive_key(root: bytes, purpose: str, length: int = 32) -> bytes:
    """A key for one purpose; keys for different purposes are independent."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode())
    return hkdf.derive(root)

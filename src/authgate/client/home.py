"""Where a device keeps its state for one server: settings, definitions, local data, secrets.

``AUTHGATE_HOME`` (default ``~/.authgate``) holds ``config.json`` (the server signed in to
last) and one folder per server with the synced definitions (no secrets: a definition names
credentials, never holds them) and one SQLite database per solution. Tokens and credentials
go to the :mod:`keychain <authgate.client.keychain>`, under a namespace of the server.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from authgate.client.errors import LocalDataError, SignInRequired
from authgate.client.keychain import SecretStore, open_secret_store

HOME_ENV = "AUTHGATE_HOME"
SERVER_ENV = "AUTHGATE_URL"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SESSION_KEY = "session"


def checked_name(kind: str, name: str) -> str:
    """A solution or table name that is safe as a file or table name, else an error."""
    if not _NAME.fullmatch(name):
        raise LocalDataError(
            f"{kind} name {name[:64]!r} is not valid: use letters, digits, '.', '_' and '-' "
            "(at most 128, starting with a letter or digit)"
        )
    return name


def normal_server(url: str) -> str:
    """The server's base URL: scheme, host and port, no trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LocalDataError(f"{url[:100]!r} is not a server URL such as https://auth.example")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def default_root(env: Mapping[str, str] | None = None) -> Path:
    """``AUTHGATE_HOME``, or ``~/.authgate``."""
    source = os.environ if env is None else env
    configured = source.get(HOME_ENV)
    return Path(configured) if configured else Path.home() / ".authgate"


@dataclass
class DeviceHome:
    """One server's state on this device."""

    root: Path
    server: str
    secrets: SecretStore

    @classmethod
    def open(
        cls,
        server: str | None = None,
        *,
        root: Path | None = None,
        secrets: SecretStore | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> DeviceHome:
        """The state for ``server`` (default: ``AUTHGATE_URL``, else the last one used)."""
        base = root or default_root()
        chosen = server or os.environ.get(SERVER_ENV) or _remembered(base)
        if not chosen:
            raise SignInRequired(
                "no server is known on this device: sign in with `authgate login --server URL` "
                f"or set {SERVER_ENV}"
            )
        url = normal_server(chosen)
        store = secrets or open_secret_store(base, url, notice=notice)
        return cls(base, url, store)

    @property
    def folder(self) -> Path:
        """This server's folder: its host, port and a short hash of the full URL."""
        parts = urlsplit(self.server)
        tag = hashlib.sha256(self.server.encode()).hexdigest()[:10]
        label = re.sub(r"[^A-Za-z0-9.-]", "_", parts.netloc)
        return self.root / "servers" / f"{label}-{tag}"

    def remember(self) -> None:
        """Make this server the default for later commands."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.root / "config.json").write_bytes(orjson.dumps({"server": self.server}))

    def definition_path(self, solution: str) -> Path:
        """Where a solution's synced definition is kept."""
        return self.folder / "definitions" / f"{checked_name('solution', solution)}.json"

    def database_path(self, solution: str) -> Path:
        """The SQLite database of a solution's local results."""
        return self.folder / "data" / f"{checked_name('solution', solution)}.sqlite"

    def read_definition(self, solution: str) -> dict[str, Any] | None:
        """The synced definition record, or ``None`` when the solution is not synced."""
        try:
            document = orjson.loads(self.definition_path(solution).read_bytes())
        except FileNotFoundError:
            return None
        return document if isinstance(document, dict) else None

    def write_definition(self, solution: str, record: Mapping[str, Any]) -> None:
        """Keep a synced definition record (no secrets in it)."""
        path = self.definition_path(solution)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(record))
        temporary.replace(path)

    def forget_definition(self, solution: str) -> bool:
        """Drop a synced definition; True when there was one."""
        try:
            self.definition_path(solution).unlink()
        except FileNotFoundError:
            return False
        return True

    def synced_solutions(self) -> list[str]:
        """The solutions synced to this device."""
        folder = self.folder / "definitions"
        return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


def _remembered(root: Path) -> str | None:
    try:
        config = orjson.loads((root / "config.json").read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    server = config.get("server") if isinstance(config, dict) else None
    return server if isinstance(server, str) else None


def credentials_key(solution: str) -> str:
    """The secret store's key for a solution's credentials."""
    return f"credentials/{checked_name('solution', solution)}"

"""What a stored connection URL says: the engine, where it is, who logs in, and how.

Accepted URLs (the value of an ``sql_connection`` credential):

* ``postgresql://user:password@host:5432/db?sslmode=require`` (also ``postgres://``)
* ``mysql://user:password@host:3306/db`` (also ``mariadb://``)
* ``sqlite:///name.db`` — a file inside ``AUTHGATE_SQL_SQLITE_DIR``, nowhere else
* ``mssql://user:password@host:1433/db?driver=ODBC+Driver+18+for+SQL+Server&encrypt=yes``

``read_only=true`` in the query declares the connection read-only; every other query
option goes to the driver. A ``+driver`` suffix on the scheme (``postgresql+asyncpg``) is
accepted and ignored. Problems are reported without the URL: it holds the password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from authgate.functions.sql_dialect import SqlDialect

SCHEMES = {
    "postgresql": SqlDialect.POSTGRESQL,
    "postgres": SqlDialect.POSTGRESQL,
    "mysql": SqlDialect.MYSQL,
    "mariadb": SqlDialect.MYSQL,
    "sqlite": SqlDialect.SQLITE,
    "mssql": SqlDialect.MSSQL,
    "sqlserver": SqlDialect.MSSQL,
}
DEFAULT_PORTS = {SqlDialect.POSTGRESQL: 5432, SqlDialect.MYSQL: 3306, SqlDialect.MSSQL: 1433}
READ_ONLY = "read_only"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# Options that would point the driver somewhere other than the host the policy checked.
_LOCATION_OPTIONS = frozenset(
    {"host", "hostaddr", "port", "unix_socket", "socket", "server", "addr", "address"}
)


class InvalidTarget(ValueError):
    """The URL cannot be used; the message says why without quoting it."""


@dataclass(frozen=True, slots=True)
class ConnectionTarget:
    """A parsed connection URL. Never logged: ``password`` is the secret."""

    dialect: SqlDialect
    host: str | None
    port: int | None
    user: str | None
    password: str | None = field(repr=False)
    database: str | None
    options: tuple[tuple[str, str], ...]
    read_only: bool
    path: Path | None = None

    def option(self, name: str) -> str | None:
        """A driver option's value (names compare without case)."""
        for key, value in self.options:
            if key.lower() == name.lower():
                return value
        return None


def parse_target(url: str, *, sqlite_dir: Path | None) -> ConnectionTarget:
    """The target of ``url``; :class:`InvalidTarget` when authgate cannot use it."""
    scheme, found, _ = url.partition("://")
    dialect = SCHEMES.get(scheme.lower().split("+", 1)[0]) if found else None
    if dialect is None:
        raise InvalidTarget(
            "its scheme is not one of postgresql://, mysql://, mariadb://, sqlite:///, mssql://"
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidTarget("it is not a well-formed URL (check the port and brackets)") from None
    options: list[tuple[str, str]] = []
    read_only = False
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == READ_ONLY:
            read_only = _flag(value)
        elif key.lower() in _LOCATION_OPTIONS:
            raise InvalidTarget(
                f"the option '{key[:32]}' is not allowed: name the host and port in the URL's "
                "authority part (user:password@host:port)"
            )
        else:
            options.append((key, value))
    if dialect is SqlDialect.SQLITE:
        return _sqlite(parts.netloc, parts.path, options, read_only, sqlite_dir)
    host = parts.hostname
    if not host or "," in parts.netloc:
        raise InvalidTarget("it must name exactly one database host (user:password@host:port)")
    database = unquote(parts.path.lstrip("/")) or None
    return ConnectionTarget(
        dialect=dialect,
        host=host,
        port=port or DEFAULT_PORTS[dialect],
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        database=database,
        options=tuple(options),
        read_only=read_only,
    )


def _flag(value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidTarget("read_only must be true or false")


def _sqlite(
    netloc: str,
    path: str,
    options: list[tuple[str, str]],
    read_only: bool,
    sqlite_dir: Path | None,
) -> ConnectionTarget:
    if sqlite_dir is None:
        raise InvalidTarget(
            "SQLite connections are off on this server; set AUTHGATE_SQL_SQLITE_DIR to the "
            "folder that holds the database files functions may open"
        )
    if netloc or options:
        raise InvalidTarget("a SQLite URL is sqlite:///<file name>, with no host or options")
    relative = unquote(path).lstrip("/")
    base = sqlite_dir.resolve()
    file = (base / relative).resolve()
    # resolve() follows symbolic links, so a link out of the folder is caught too.
    if not relative or file == base or not file.is_relative_to(base):
        raise InvalidTarget(
            "a SQLite database must be a file inside AUTHGATE_SQL_SQLITE_DIR "
            "(sqlite:///<file name>)"
        )
    return ConnectionTarget(
        dialect=SqlDialect.SQLITE,
        host=None,
        port=None,
        user=None,
        password=None,
        database=None,
        options=(),
        read_only=read_only,
        path=file,
    )


def odbc_connection_string(target: ConnectionTarget) -> str:
    """The ODBC connection string for a SQL Server target.

    ``driver`` defaults to Microsoft's "ODBC Driver 18 for SQL Server"; other options are
    passed as ODBC attributes. Every value is wrapped in braces (``}`` doubled), so no
    value can end its attribute and start another.
    """
    attributes: dict[str, str] = {"DRIVER": "ODBC Driver 18 for SQL Server"}
    attributes["SERVER"] = f"tcp:{target.host},{target.port}"
    if target.database:
        attributes["DATABASE"] = target.database
    if target.user is not None:
        attributes["UID"] = target.user
    if target.password is not None:
        attributes["PWD"] = target.password
    if target.read_only:
        attributes["ApplicationIntent"] = "ReadOnly"
    for key, value in target.options:
        if not key.replace("_", "").isalnum():
            raise InvalidTarget("an ODBC option name must be letters, digits and '_'")
        attributes[key.upper() if key.lower() == "driver" else key] = value
    return ";".join(f"{key}={_braced(value)}" for key, value in attributes.items())


def _braced(value: str) -> str:
    return "{" + value.replace("}", "}}") + "}"

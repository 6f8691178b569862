"""Settings: one typed object, built once at start-up and passed in.

Sources, highest priority first: keyword arguments, ``AUTHGATE_*`` environment variables,
``AUTHGATE_<NAME>_FILE`` files (for secrets), the TOML file named by ``AUTHGATE_CONFIG``,
then defaults. Nothing here is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from authgate.errors import ConfigurationError

ENV_PREFIX = "AUTHGATE_"
OWASP_ARGON2_MIN_MEMORY_KIB = 19 * 1024
OWASP_ARGON2_MIN_TIME_COST = 2


class Settings(BaseSettings):
    """Every setting of an authgate node."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the values :func:`load_settings` gathered: it reads every source itself, so
        it can tell where each value came from."""
        return (init_settings,)

    data_dir: Path = Field(
        default=Path("data"), description="Where SQLite, keys and the outbox live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default sqlite+aiosqlite in the data directory.",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="PostgreSQL connections each node may open (as needed) and keep open.",
    )
    database_max_overflow: int = Field(
        default=10,
        ge=0,
        le=500,
        description="Further connections a node may open under load; kept open too, so that "
        "bursts do not pay for new connections. A node holds at most the sum.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_url: str | None = Field(
        default=None, description="The URL users and devices reach; the token issuer."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Root key (32+ bytes, base64 or text) for keyed hashes and key encryption.",
    )
    redis_url: str | None = None

    access_token_ttl: int = Field(default=900, ge=60, le=86400)
    refresh_token_ttl: int = Field(default=30 * 86400, ge=300, description="Absolute lifetime.")
    refresh_idle_ttl: int = Field(default=14 * 86400, ge=300)
    invite_ttl: int = Field(default=7 * 86400, ge=300)
    verification_ttl: int = Field(default=86400, ge=300)
    reset_ttl: int = Field(default=3600, ge=300)
    provider_session_ttl: int = Field(
        default=8 * 3600,
        ge=300,
        le=30 * 86400,
        description="How long a sign-in at authgate's pages lasts in the browser before the "
        "next app asks the person to sign in again (seconds).",
    )
    provider_dynamic_registration: bool = Field(
        default=False,
        description="Let apps register themselves at /oauth/register (RFC 7591) with an "
        "access token of an OWNER or ADMIN of the organization they join.",
    )

    argon2_memory_kib: int = Field(default=OWASP_ARGON2_MIN_MEMORY_KIB)
    argon2_time_cost: int = Field(default=OWASP_ARGON2_MIN_TIME_COST)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)

    signin_account_limit: int = Field(default=10, ge=1, description="Failures per window.")
    signin_ip_limit: int = Field(default=100, ge=1, description="Failures per window.")
    signin_window: int = Field(default=900, ge=10, description="Seconds.")

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    mail_from: str = "authgate <no-reply@localhost>"

    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"
    proxy_headers: bool = Field(default=False, description="Trust X-Forwarded-For from proxies.")

    # egress
    egress_allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Internal hosts functions may reach despite the SSRF policy: host names, "
        "addresses or networks, comma-separated (e.g. api.internal,10.1.0.0/16,::1).",
    )
    egress_proxy_url: str | None = Field(
        default=None,
        description="An http(s) proxy every upstream request goes through (e.g. "
        "http://proxy.internal:3128); hosts are still checked before they are sent to it.",
    )
    egress_source_address: str | None = Field(
        default=None,
        description="The local IP address upstream connections leave from, so upstreams can "
        "allow-list it.",
    )
    egress_http2: bool = Field(
        default=True, description="Use HTTP/2 with upstreams that offer it (TLS ALPN)."
    )
    egress_max_connections: int = Field(
        default=100, ge=1, le=10000, description="Upstream connections each node keeps at most."
    )

    # apps gateway (signed fetch)
    instance_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._:-]{1,128}$",
        description="This deployment's instance id in the owner ids it asserts "
        "(<user>@<instance>); default: derived from the secret key, stable across restarts.",
    )
    signed_fetch_window: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="Seconds an oauth_timestamp may differ from the server clock.",
    )
    gateway_timeout: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="Seconds a home server has to begin answering, then between pieces.",
    )

    @field_validator("egress_allowed_hosts", "sql_allowed_hosts", mode="before")
    @classmethod
    def _split_allowed_hosts(cls, value: object) -> object:
        value = _comma_list(value)
        if isinstance(value, list | tuple):
            for entry in value:
                _check_egress_host(str(entry))
        return value

    @field_validator("egress_proxy_url")
    @classmethod
    def _proxy_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL such as http://proxy:3128")
        return value

    @field_validator("egress_source_address")
    @classmethod
    def _source_is_an_address(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                raise ValueError("must be an IP address of this machine, e.g. 192.0.2.10") from None
        return value

    # functions
    function_timeout: float = Field(
        default=30, gt=0, le=600, description="Seconds one function call may take, all pages."
    )
    function_max_pages: int = Field(
        default=100, ge=1, le=10000, description="Pages one call may follow (continuation)."
    )
    function_max_response_bytes: int = Field(
        default=6 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Bytes of upstream responses one call may read, all pages together.",
    )

    # SQL functions
    sql_statement_timeout: float = Field(
        default=30, gt=0, le=600, description="Seconds one SQL function's statement may run."
    )
    sql_max_rows: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Rows one SQL function call may return; more is an error, never a cut.",
    )
    sql_pool_size: int = Field(
        default=10, ge=1, le=1000, description="Connections per SQL connection credential."
    )
    sql_allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Internal database hosts SQL connections may reach: host names, "
        "addresses or networks, comma-separated (e.g. db.internal,10.2.0.0/16).",
    )
    sql_sqlite_dir: Path | None = Field(
        default=None,
        description="The folder whose SQLite files SQL connections may open (sqlite:///name.db); "
        "unset, SQLite connections are refused.",
    )

    # SSO
    sso_redirect_uris: tuple[str, ...] = Field(
        default=("http://127.0.0.1/callback", "http://[::1]/callback"),
        description="Where a brokered SSO login may hand its one-time code to the device app: "
        "its redirect URIs, comma-separated, matched exactly (a loopback URI's port may vary), "
        "e.g. com.example.app:/sso,http://127.0.0.1/callback.",
    )

    @field_validator("sso_redirect_uris", mode="before")
    @classmethod
    def _split_redirect_uris(cls, value: object) -> object:
        value = _comma_list(value)
        if isinstance(value, list | tuple):
            for entry in value:
                _check_redirect_uri(str(entry))
        return value

    # vault
    vault_kek: SecretStr | None = Field(
        default=None,
        description="Vault key-encryption key: 32 random bytes, base64. Default: derived "
        "from the root key (secret_key or the data directory's key file).",
    )
    vault_previous_keks: tuple[SecretStr, ...] = Field(
        default=(),
        description="Older vault KEKs (comma-separated base64), still accepted for unwrapping "
        "until `authgate keys rotate-kek` has re-wrapped every data key.",
    )

    @field_validator("vault_kek")
    @classmethod
    def _vault_kek_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_kek(value.get_secret_value())
        return value

    @field_validator("vault_previous_keks", mode="before")
    @classmethod
    def _split_previous_keks(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = [part for part in value.replace("\n", ",").split(",") if part.strip()]
        if isinstance(value, list | tuple):
            for item in value:
                raw = item.get_secret_value() if isinstance(item, SecretStr) else str(item)
                _check_kek(raw)
        return value

    @field_validator("argon2_memory_kib")
    @classmethod
    def _memory_at_owasp_minimum(cls, value: int) -> int:
        if value < OWASP_ARGON2_MIN_MEMORY_KIB:
            raise ValueError(f"must be at least {OWASP_ARGON2_MIN_MEMORY_KIB} (19 MiB, OWASP)")
        return value

    @field_validator("argon2_time_cost")
    @classmethod
    def _time_at_owasp_minimum(cls, value: int) -> int:
        if value < OWASP_ARGON2_MIN_TIME_COST:
            raise ValueError(f"must be at least {OWASP_ARGON2_MIN_TIME_COST} (OWASP)")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite+aiosqlite:", "postgresql+asyncpg:")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value is not None:
            if not value.startswith(("http://", "https://")):
                raise ValueError("must be an absolute http(s) URL such as https://id.example.com")
            return value.rstrip("/")
        return value

    @model_validator(mode="after")
    def _secret_key_long_enough(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("secret_key must be at least 32 characters")
        return self

    @property
    def database(self) -> str:
        """The database URL in force (the embedded SQLite file when none is set)."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'authgate.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite file."""
        return self.database.startswith("sqlite")

    @property
    def issuer(self) -> str:
        """The ``iss`` of every token, and the base of every link in emails."""
        if self.public_url:
            return self.public_url
        return f"http://{self.host}:{self.port}"

    @property
    def outbox_dir(self) -> Path:
        """Where mail goes when no SMTP server is configured."""
        return self.data_dir / "outbox"


_FIELDS = set(Settings.model_fields)


def key_bytes(text: str) -> bytes:
    """The bytes of a key written in base64 or base64url (padding optional); ``b""`` when
    the text is not base64."""
    stripped = text.strip()
    try:
        padded = stripped + "=" * (-len(stripped) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True)
    except ValueError:
        return b""


def _check_kek(text: str) -> None:
    """A vault KEK must be exactly 32 bytes of base64 (the message never shows the value)."""
    if len(key_bytes(text)) != 32:
        raise ValueError(
            "must be 32 random bytes in base64, e.g. the output of `python -c 'import "
            "base64,secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'`"
        )


_REDIRECT_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


def _check_redirect_uri(entry: str) -> None:
    """A registered redirect URI: absolute, without a fragment (RFC 6749 §3.1.2)."""
    scheme, colon, rest = entry.partition(":")
    if not colon or not rest or not _REDIRECT_SCHEME.fullmatch(scheme) or "#" in entry:
        raise ValueError(
            f"{entry[:200]!r} is not an absolute URI without a fragment, such as "
            "com.example.app:/sso or http://127.0.0.1/callback"
        )
    if scheme in ("javascript", "data", "file") or not entry.isprintable() or " " in entry:
        raise ValueError(f"{entry[:200]!r} cannot be a redirect URI")


_EGRESS_HOST_NAME = re.compile(r"[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*\.?")


def _comma_list(value: object) -> object:
    """A comma-separated setting as its entries (other values unchanged, for pydantic)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _check_egress_host(entry: str) -> None:
    """An allow-list entry must be an IP address, a network or a host name."""
    try:
        ipaddress.ip_network(entry.strip("[]"), strict=False)
        return
    except ValueError:
        pass
    name = entry.lower()
    last_label = name.rstrip(".").rsplit(".", 1)[-1]
    if len(name) > 253 or not _EGRESS_HOST_NAME.fullmatch(name) or last_label.isdigit():
        raise ValueError(
            f"{entry!r} is not a host name, an IP address or a network such as 10.0.0.0/8"
        )


def _env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def _read_sources(env: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Collect raw values and, for each, where it came from (for error messages)."""
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    config_file = env.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(
                f"AUTHGATE_CONFIG names {path}, which cannot be read ({exc.strerror}); "
                "fix the path or unset AUTHGATE_CONFIG."
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(
                f"the config file {path} is not valid TOML ({exc}); fix the file."
            ) from None
        table = data.get("authgate", data)
        if not isinstance(table, dict):
            raise ConfigurationError(
                f"the config file {path} must hold settings as keys (optionally in an "
                "[authgate] table); fix the file."
            )
        for key, value in table.items():
            if key not in _FIELDS:
                raise ConfigurationError(
                    f"unknown setting '{key}' in {path}; "
                    f"known settings: {', '.join(sorted(_FIELDS))}."
                )
            values[key] = value
            origin[key] = f"the config file {path}"
    for field in _FIELDS:
        file_var = _env_name(field) + "_FILE"
        if file_var in env:
            try:
                values[field] = Path(env[file_var]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigurationError(
                    f"{file_var} names {env[file_var]}, which cannot be read ({exc.strerror}); "
                    "fix the path."
                ) from None
            origin[field] = f"the file named by {file_var}"
        if _env_name(field) in env:
            values[field] = env[_env_name(field)]
            origin[field] = f"the environment variable {_env_name(field)}"
    return values, origin


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings, or raise :class:`ConfigurationError` naming setting, source and fix."""
    source_env = os.environ if env is None else env
    values, origin = _read_sources(source_env)
    for key in overrides:
        origin[key] = "the command line"
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, origin)) from None


def _describe(exc: ValidationError, origin: Mapping[str, str]) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "secret_key"
        if "secret" in field or "password" in field or "kek" in field:
            shown = "(value hidden)"
        elif field.endswith("_url"):
            shown = repr(redact_url(str(error.get("input"))))
        else:
            shown = repr(error.get("input"))
        source = origin.get(field, "the default")
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(
            f"  {field} = {shown} from {source}: {message}. "
            f"Fix: set {_env_name(field)} (or '{field}' in the AUTHGATE_CONFIG file) "
            "to a valid value."
        )
    return "\n".join(lines)


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        credentials, _, host = authority.rpartition("@")
        user, colon, _ = credentials.partition(":")
        return f"{scheme}{sep}{user}{':***' if colon else ''}@{host}{slash}{path}"
    return url

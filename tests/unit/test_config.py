"""Settings: sources, validation, and error messages that name setting, source and fix.

Every test passes ``env=`` explicitly and runs with the process's ``AUTHGATE_*`` variables
removed, so the machine running the tests cannot change the outcome.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest

from authgate.config import OWASP_ARGON2_MIN_MEMORY_KIB, Settings, load_settings
from authgate.errors import ConfigurationError

CANARY = "CANARY-7f3a9c"  # a short secret: too short to be accepted, must never be shown
GOOD_KEY = "k" * 48


@pytest.fixture(autouse=True)
def _no_authgate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AUTHGATE_"):
            monkeypatch.delenv(name)


def _error(env: dict[str, str] | None = None, **overrides: object) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env=env or {}, **overrides)
    assert caught.value.status == 500
    assert caught.value.code == "configuration_error"
    return caught.value


def _everything_said(error: ConfigurationError) -> str:
    """Every way the error can be shown: message, str, repr, details, a printed traceback."""
    return "\n".join(
        [
            error.message,
            str(error),
            repr(error),
            repr(error.args),
            repr(error.details),
            "".join(traceback.format_exception(error)),
        ]
    )


def test_defaults() -> None:
    settings = load_settings(env={})
    assert isinstance(settings, Settings)
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.secret_key is None
    assert settings.argon2_memory_kib >= OWASP_ARGON2_MIN_MEMORY_KIB
    assert settings.argon2_time_cost >= 2
    assert settings.argon2_parallelism >= 1
    assert settings.issuer == "http://127.0.0.1:8080"
    assert settings.is_sqlite


def test_environment_variables_are_read() -> None:
    settings = load_settings(
        env={
            "AUTHGATE_PORT": "9000",
            "AUTHGATE_PUBLIC_URL": "https://id.example.com/",
            "AUTHGATE_SECRET_KEY": GOOD_KEY,
            "AUTHGATE_PROXY_HEADERS": "true",
            "UNRELATED": "ignored",
        }
    )
    assert settings.port == 9000
    assert settings.issuer == "https://id.example.com"
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == GOOD_KEY
    assert settings.proxy_headers is True


@pytest.mark.parametrize("value", ["eighty", "70000", "-1", "80.5", ""])
def test_a_bad_port_from_the_environment_names_variable_source_and_fix(value: str) -> None:
    error = _error({"AUTHGATE_PORT": value})
    assert "AUTHGATE_PORT" in error.message
    assert "environment variable" in error.message
    assert "port" in error.message
    assert "Fix" in error.message


def test_a_bad_value_from_the_command_line_names_it() -> None:
    error = _error(port=70000)
    assert "port" in error.message
    assert "the command line" in error.message


@pytest.mark.parametrize("memory", ["1024", "19455", "0", "-5"])
def test_argon2_memory_below_owasp_is_refused(memory: str) -> None:
    error = _error({"AUTHGATE_ARGON2_MEMORY_KIB": memory})
    assert "argon2_memory_kib" in error.message
    assert "AUTHGATE_ARGON2_MEMORY_KIB" in error.message
    assert "19456" in error.message
    assert "OWASP" in error.message


def test_argon2_at_or_above_owasp_is_accepted() -> None:
    settings = load_settings(
        env={"AUTHGATE_ARGON2_MEMORY_KIB": "19456", "AUTHGATE_ARGON2_TIME_COST": "2"}
    )
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19456, 2)
    assert load_settings(env={}, argon2_memory_kib=65536).argon2_memory_kib == 65536


def test_argon2_time_cost_below_owasp_is_refused() -> None:
    error = _error({"AUTHGATE_ARGON2_TIME_COST": "1"})
    assert "argon2_time_cost" in error.message
    assert "OWASP" in error.message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AUTHGATE_DATABASE_URL", "mysql://db/authgate"),
        ("AUTHGATE_PUBLIC_URL", "id.example.com"),
        ("AUTHGATE_LOG_LEVEL", "verbose"),
        ("AUTHGATE_SMTP_SECURITY", "ssl"),
        ("AUTHGATE_ACCESS_TOKEN_TTL", "10"),
        ("AUTHGATE_SIGNIN_ACCOUNT_LIMIT", "0"),
    ],
)
def test_invalid_values_name_their_variable(name: str, value: str) -> None:
    error = _error({name: value})
    assert name in error.message
    assert name.removeprefix("AUTHGATE_").lower() in error.message


def test_several_errors_are_all_reported() -> None:
    error = _error({"AUTHGATE_PORT": "x", "AUTHGATE_ARGON2_TIME_COST": "1"})
    assert "AUTHGATE_PORT" in error.message
    assert "AUTHGATE_ARGON2_TIME_COST" in error.message


# --- TOML file -----------------------------------------------------------------------------


def test_a_toml_file_is_read(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text('port = 9100\nhost = "0.0.0.0"\n', encoding="utf-8")
    settings = load_settings(env={"AUTHGATE_CONFIG": str(config)})
    assert (settings.port, settings.host) == (9100, "0.0.0.0")


def test_a_toml_file_with_an_authgate_table_is_read(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text("[authgate]\nport = 9200\n", encoding="utf-8")
    assert load_settings(env={"AUTHGATE_CONFIG": str(config)}).port == 9200


def test_the_environment_overrides_the_file_and_arguments_override_both(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text("port = 9100\nsignin_window = 120\n", encoding="utf-8")
    env = {"AUTHGATE_CONFIG": str(config), "AUTHGATE_PORT": "9300"}
    settings = load_settings(env=env)
    assert (settings.port, settings.signin_window) == (9300, 120)
    assert load_settings(env=env, port=9400).port == 9400


def test_an_unknown_key_in_the_toml_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text("port = 9100\nprot = 9100\n", encoding="utf-8")
    error = _error({"AUTHGATE_CONFIG": str(config)})
    assert "'prot'" in error.message
    assert str(config) in error.message
    assert "port" in error.message  # the known settings are listed


def test_a_bad_value_in_the_toml_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text('port = "eighty"\n', encoding="utf-8")
    error = _error({"AUTHGATE_CONFIG": str(config)})
    assert f"the config file {config}" in error.message
    assert "AUTHGATE_PORT" in error.message


def test_an_unreadable_config_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    error = _error({"AUTHGATE_CONFIG": str(missing)})
    assert "AUTHGATE_CONFIG" in error.message
    assert str(missing) in error.message


def test_invalid_toml_is_refused_naming_the_file(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text("port = = 1\n", encoding="utf-8")
    error = _error({"AUTHGATE_CONFIG": str(config)})
    assert str(config) in error.message
    assert "TOML" in error.message


# --- Secrets from files ---------------------------------------------------------------------


def test_secret_key_file_is_read_and_stripped(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(f"  {GOOD_KEY}\n", encoding="utf-8")
    settings = load_settings(env={"AUTHGATE_SECRET_KEY_FILE": str(secret_file)})
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == GOOD_KEY
    assert GOOD_KEY not in repr(settings)
    assert GOOD_KEY not in str(settings.model_dump())


def test_smtp_password_file_is_read(tmp_path: Path) -> None:
    password_file = tmp_path / "smtp_password"
    password_file.write_text("hunter2-smtp\n", encoding="utf-8")
    settings = load_settings(env={"AUTHGATE_SMTP_PASSWORD_FILE": str(password_file)})
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "hunter2-smtp"


def test_the_environment_variable_wins_over_its_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("f" * 48, encoding="utf-8")
    settings = load_settings(
        env={"AUTHGATE_SECRET_KEY_FILE": str(secret_file), "AUTHGATE_SECRET_KEY": GOOD_KEY}
    )
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() == GOOD_KEY


def test_a_missing_secret_file_names_the_variable(tmp_path: Path) -> None:
    error = _error({"AUTHGATE_SECRET_KEY_FILE": str(tmp_path / "nope")})
    assert "AUTHGATE_SECRET_KEY_FILE" in error.message
    assert "Fix" in error.message or "fix" in error.message


# --- Secrets never appear in errors ---------------------------------------------------------


def test_a_short_secret_key_from_the_environment_is_never_shown() -> None:
    error = _error({"AUTHGATE_SECRET_KEY": CANARY})
    assert "secret_key" in error.message
    assert "32" in error.message
    assert "AUTHGATE_SECRET_KEY" in error.message
    assert CANARY not in _everything_said(error)


def test_a_short_secret_key_from_a_file_is_never_shown(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(CANARY + "\n", encoding="utf-8")
    error = _error({"AUTHGATE_SECRET_KEY_FILE": str(secret_file)})
    assert "secret_key" in error.message
    assert CANARY not in _everything_said(error)


def test_a_short_secret_key_from_the_toml_file_is_never_shown(tmp_path: Path) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text(f'secret_key = "{CANARY}"\n', encoding="utf-8")
    error = _error({"AUTHGATE_CONFIG": str(config)})
    assert CANARY not in _everything_said(error)


def test_a_short_secret_key_from_the_command_line_is_never_shown() -> None:
    error = _error(secret_key=CANARY)
    assert CANARY not in _everything_said(error)


def test_a_secret_is_hidden_even_when_another_setting_fails() -> None:
    error = _error({"AUTHGATE_SECRET_KEY": CANARY, "AUTHGATE_PORT": "x"})
    assert "AUTHGATE_PORT" in error.message
    assert CANARY not in _everything_said(error)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("smtp_password", [CANARY]),
        ("smtp_password", {"value": CANARY}),
        ("secret_key", [CANARY]),
    ],
)
def test_malformed_secret_values_from_the_toml_file_are_never_shown(
    tmp_path: Path, setting: str, value: object
) -> None:
    config = tmp_path / "authgate.toml"
    if isinstance(value, list):
        config.write_text(f'{setting} = ["{CANARY}"]\n', encoding="utf-8")
    else:
        config.write_text(f'[{setting}]\nvalue = "{CANARY}"\n', encoding="utf-8")
    error = _error({"AUTHGATE_CONFIG": str(config)})
    assert setting in error.message
    assert CANARY not in _everything_said(error)


def test_egress_settings_from_the_environment() -> None:
    settings = load_settings(
        env={
            "AUTHGATE_EGRESS_ALLOWED_HOSTS": " api.internal, 10.1.0.0/16 ,::1,127.0.0.1",
            "AUTHGATE_EGRESS_PROXY_URL": "http://proxy.internal:3128",
            "AUTHGATE_EGRESS_SOURCE_ADDRESS": "192.0.2.10",
            "AUTHGATE_EGRESS_HTTP2": "false",
            "AUTHGATE_EGRESS_MAX_CONNECTIONS": "7",
        }
    )
    assert settings.egress_allowed_hosts == ("api.internal", "10.1.0.0/16", "::1", "127.0.0.1")
    assert settings.egress_proxy_url == "http://proxy.internal:3128"
    assert settings.egress_source_address == "192.0.2.10"
    assert settings.egress_http2 is False
    assert settings.egress_max_connections == 7
    defaults = load_settings(env={})
    assert defaults.egress_allowed_hosts == ()
    assert defaults.egress_proxy_url is None
    assert defaults.egress_http2 is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AUTHGATE_EGRESS_ALLOWED_HOSTS", "api.internal,not a host"),
        ("AUTHGATE_EGRESS_ALLOWED_HOSTS", "10.0.0.0/33"),
        ("AUTHGATE_EGRESS_ALLOWED_HOSTS", "2130706433"),
        ("AUTHGATE_EGRESS_PROXY_URL", "socks5://proxy:1080"),
        ("AUTHGATE_EGRESS_SOURCE_ADDRESS", "eth0"),
        ("AUTHGATE_EGRESS_MAX_CONNECTIONS", "0"),
    ],
)
def test_invalid_egress_settings_name_the_variable(variable: str, value: str) -> None:
    error = _error({variable: value})
    assert variable in error.message


def test_an_egress_proxy_password_is_never_shown() -> None:
    error = _error({"AUTHGATE_EGRESS_PROXY_URL": f"ftp://user:{CANARY}@proxy:21"})
    assert "AUTHGATE_EGRESS_PROXY_URL" in error.message
    assert CANARY not in _everything_said(error)

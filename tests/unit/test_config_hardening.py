"""Hardening: a malformed config file, credentials in URLs, and the real environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from authgate.config import load_settings
from authgate.errors import ConfigurationError

CANARY = "CANARY-7f3a9c"


@pytest.fixture(autouse=True)
def _no_authgate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("AUTHGATE_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://authgate:{CANARY}@db.internal/authgate",
        f"postgresql://authgate:{CANARY}@db.internal/authgate",
        f"mysql+aiomysql://authgate:{CANARY}@db.internal/authgate",
    ],
)
def test_a_database_password_is_never_shown_in_a_configuration_error(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env={"AUTHGATE_DATABASE_URL": url})
    assert "AUTHGATE_DATABASE_URL" in caught.value.message
    assert CANARY not in str(caught.value)


def test_load_settings_reads_only_the_mapping_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUTHGATE_PORT", "9999")
    assert load_settings(env={}).port == 8080
    # And an invalid process variable is blamed on "the default".
    monkeypatch.setenv("AUTHGATE_PORT", "99999")
    assert load_settings(env={}).port == 8080


@pytest.mark.parametrize(
    "text", ['authgate = "yes"\n', "[[authgate]]\nport = 1\n", "authgate = 1\n"]
)
def test_a_toml_authgate_key_that_is_not_a_table_is_a_configuration_error(
    tmp_path: Path, text: str
) -> None:
    config = tmp_path / "authgate.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(env={"AUTHGATE_CONFIG": str(config)})
    assert str(config) in caught.value.message

"""build_mailer: SMTP when smtp_host is set, else the file outbox in settings.outbox_dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authgate.config import load_settings
from authgate.errors import ConfigurationError
from authgate.identity.ports import Mailer
from authgate.mail import (
    FileOutboxMailer,
    InvalidMailHeader,
    SmtpMailer,
    build_mailer,
    read_outbox,
)

CANARY = "canary-settings-pw-51a0"


def settings(tmp_path: Path, **values: Any) -> Any:
    return load_settings(env={}, data_dir=tmp_path, **values)


async def test_without_smtp_host_mail_goes_to_the_outbox(tmp_path: Path) -> None:
    mailer: Mailer = build_mailer(settings(tmp_path, mail_from="Acme <id@acme.example>"))
    assert isinstance(mailer, FileOutboxMailer)
    assert mailer.directory == tmp_path / "outbox"
    await mailer.send("bea@example.net", "password_changed", {"display_name": "Bea"})
    [message] = read_outbox(tmp_path / "outbox")
    assert message["From"] == "Acme <id@acme.example>"


def test_with_smtp_host_mail_goes_over_smtp(tmp_path: Path) -> None:
    mailer = build_mailer(
        settings(
            tmp_path,
            smtp_host="smtp.example.com",
            smtp_port=465,
            smtp_username="mailer",
            smtp_password=CANARY,
            smtp_security="tls",
            mail_from="id@acme.example",
        )
    )
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.security) == ("smtp.example.com", 465, "tls")
    assert mailer.username == "mailer"
    assert mailer.sender.addr_spec == "id@acme.example"
    assert mailer.address == "smtp.example.com:465"
    assert CANARY not in repr(mailer)


def test_smtp_defaults_to_starttls_on_587(tmp_path: Path) -> None:
    mailer = build_mailer(settings(tmp_path, smtp_host="smtp.example.com"))
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.port, mailer.security, mailer.username) == (587, "starttls", None)


def test_a_username_without_a_password_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="smtp_username and smtp_password"):
        build_mailer(settings(tmp_path, smtp_host="smtp.example.com", smtp_username="mailer"))


def test_a_password_without_a_username_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="smtp_username and smtp_password") as caught:
        build_mailer(settings(tmp_path, smtp_host="smtp.example.com", smtp_password=CANARY))
    assert CANARY not in str(caught.value)


@pytest.mark.parametrize("smtp_host", [None, "smtp.example.com"])
def test_a_mail_from_with_a_line_break_is_refused(tmp_path: Path, smtp_host: str | None) -> None:
    with pytest.raises(InvalidMailHeader, match="mail_from"):
        build_mailer(settings(tmp_path, smtp_host=smtp_host, mail_from="a@b.c\r\nBcc: x@y.z"))


def test_an_ipv6_smtp_host_is_shown_in_brackets() -> None:
    assert SmtpMailer("::1", 25, security="none").address == "[::1]:25"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"security": "ssl"}, "smtp_security"),
        ({"port": 0}, "smtp_port"),
        ({"port": 70000}, "smtp_port"),
        ({"host": ""}, "smtp_host"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_smtp_arguments_are_configuration_errors(kwargs: dict[str, Any], fragment: str) -> None:
    arguments: dict[str, Any] = {"host": "smtp.example.com", "port": 587, **kwargs}
    with pytest.raises(ConfigurationError, match=fragment):
        SmtpMailer(**arguments)

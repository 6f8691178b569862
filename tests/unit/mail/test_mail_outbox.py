"""The file outbox: parseable .eml files, written atomically, private, read back in order."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from authgate.errors import ServiceUnavailable
from authgate.mail import FileOutboxMailer, InvalidMailHeader, OutboxUnavailable, read_outbox
from authgate.mail.outbox import outbox_files

LINK = "https://id.example.com/v1/reset?token=tok_outbox"
RESET = {"display_name": "Bea User", "link": LINK, "expires_at": "2030-01-01 13:00 UTC"}
WELCOME = {"org_name": "Acme Corp", "display_name": "Bea User"}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def entries(directory: Path) -> list[str]:
    return sorted(entry.name for entry in directory.iterdir())


async def test_a_message_is_written_as_a_parseable_eml_file(tmp_path: Path) -> None:
    outbox = tmp_path / "data" / "outbox"
    mailer = FileOutboxMailer(outbox, sender="authgate <no-reply@id.example.com>")
    await mailer.send("bea@example.net", "reset_password", RESET)

    files = outbox_files(outbox)
    assert len(files) == 1
    assert files[0].suffix == ".eml"
    [message] = read_outbox(outbox)
    assert message["To"] == "bea@example.net"
    assert message["From"] == "authgate <no-reply@id.example.com>"
    assert message["Subject"] == "Reset your authgate password"
    assert message["Message-ID"]
    assert message["Date"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert LINK in text.get_content()
    assert "Reset your password" in html.get_content()


async def test_the_directory_is_private_and_so_are_the_files(tmp_path: Path) -> None:
    outbox = tmp_path / "nested" / "outbox"
    old_umask = os.umask(0o022)
    try:
        await FileOutboxMailer(outbox).send("bea@example.net", "welcome", WELCOME)
    finally:
        os.umask(old_umask)
    assert mode(outbox) == 0o700
    [file] = outbox_files(outbox)
    assert mode(file) == 0o600


async def test_messages_come_back_in_the_order_they_were_sent(tmp_path: Path) -> None:
    mailer = FileOutboxMailer(tmp_path)
    recipients = [f"user{i}@example.net" for i in range(20)]
    for to in recipients:
        await mailer.send(to, "welcome", WELCOME)
    assert [message["To"] for message in read_outbox(tmp_path)] == recipients
    names = [path.name for path in outbox_files(tmp_path)]
    assert names == sorted(names)
    assert len(set(names)) == len(names)


async def test_concurrent_sends_get_unique_files(tmp_path: Path) -> None:
    mailer = FileOutboxMailer(tmp_path)
    await asyncio.gather(
        *(mailer.send(f"user{i}@example.net", "welcome", WELCOME) for i in range(40))
    )
    messages = read_outbox(tmp_path)
    assert sorted(m["To"] for m in messages) == sorted(f"user{i}@example.net" for i in range(40))
    assert len({m["Message-ID"] for m in messages}) == 40


async def test_two_mailers_on_one_directory_do_not_collide(tmp_path: Path) -> None:
    first, second = FileOutboxMailer(tmp_path), FileOutboxMailer(tmp_path)
    await first.send("one@example.net", "welcome", WELCOME)
    await second.send("two@example.net", "welcome", WELCOME)
    await first.send("three@example.net", "welcome", WELCOME)
    assert [m["To"] for m in read_outbox(tmp_path)] == [
        "one@example.net",
        "two@example.net",
        "three@example.net",
    ]


async def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    await FileOutboxMailer(tmp_path).send("bea@example.net", "welcome", WELCOME)
    [name] = entries(tmp_path)
    assert name.endswith(".eml")
    assert not name.startswith(".")


async def test_a_failed_write_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OutboxUnavailable) as caught:
        await FileOutboxMailer(tmp_path).send("bea@example.net", "reset_password", RESET)
    assert entries(tmp_path) == []
    assert str(tmp_path) in str(caught.value)
    assert "No space left on device" in str(caught.value)
    assert "tok_outbox" not in str(caught.value)


def test_read_outbox_ignores_temporary_and_foreign_files(tmp_path: Path) -> None:
    (tmp_path / ".00000000000000000001-abc.eml.tmp").write_bytes(b"Subject: partial\r\n")
    (tmp_path / "notes.txt").write_text("not mail")
    (tmp_path / "sub.eml").mkdir()
    assert read_outbox(tmp_path) == []


def test_read_outbox_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert read_outbox(tmp_path / "never-created") == []


async def test_an_outbox_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("")
    with pytest.raises(OutboxUnavailable) as caught:
        await FileOutboxMailer(blocker).send("bea@example.net", "welcome", WELCOME)
    error = caught.value
    assert isinstance(error, ServiceUnavailable)
    assert error.code == "mail_unavailable"
    assert error.status == 503
    assert str(blocker) in str(error)


async def test_an_injected_recipient_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidMailHeader):
        await FileOutboxMailer(tmp_path).send("a@b.c\r\nBcc: x@y.z", "welcome", WELCOME)
    assert read_outbox(tmp_path) == []
    assert entries(tmp_path) == []

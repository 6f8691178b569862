"""A mailer that writes each email to a directory instead of sending it.

Used when no SMTP server is configured (development, air-gapped installs, tests): an operator
reads the messages with :func:`read_outbox` or any mail client that opens ``.eml`` files.
The files hold links with live tokens, so the directory is private to authgate's user.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
import time
from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from authgate.clock import Clock, utc_now
from authgate.mail.errors import MailUnavailable
from authgate.mail.headers import DEFAULT_SENDER, parse_sender
from authgate.mail.message import build_email

SUFFIX = ".eml"
"""The extension of every message file."""

_DIRECTORY_MODE = 0o700
_FILE_MODE = 0o600


class OutboxUnavailable(MailUnavailable):
    """The outbox directory cannot be created or written."""


class _Stamps:
    """Nanosecond time stamps that strictly increase within the process."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return self._last


_STAMPS = _Stamps()


def _message_name() -> str:
    # Zero-padded nanoseconds sort by time as text; the random part keeps names unique
    # across processes that share the directory.
    return f"{_STAMPS.next():020d}-{secrets.token_hex(8)}{SUFFIX}"


def _ensure_directory(directory: Path) -> None:
    try:
        directory.mkdir(mode=_DIRECTORY_MODE, parents=True)
    except FileExistsError:
        if not directory.is_dir():
            raise NotADirectoryError(f"{directory} exists and is not a directory") from None
    else:
        # mkdir's mode is filtered by the umask; set it exactly.
        directory.chmod(_DIRECTORY_MODE)


def _write_atomically(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to a hidden temporary file, flush it to disk, then rename it into place."""
    final = directory / name
    temporary = directory / f".{name}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return final


class FileOutboxMailer:
    """A :class:`~authgate.identity.ports.Mailer` that stores each email as an ``.eml`` file.

    File names sort in the order the messages were written; a reader never sees a partly
    written file (files appear under their final name only once complete). The directory is
    created with mode 0700 and each file with 0600.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        sender: str = DEFAULT_SENDER,
        clock: Clock = utc_now,
    ) -> None:
        self.directory = Path(directory)
        self.sender = parse_sender(sender)
        self._clock = clock

    def __repr__(self) -> str:
        """Name the directory."""
        return f"FileOutboxMailer(directory={str(self.directory)!r})"

    async def send(self, to: str, template: str, context: Mapping[str, str]) -> None:
        """Render ``template`` for ``to`` and write it to the outbox."""
        await self.write(build_email(to, template, context, sender=self.sender, clock=self._clock))

    async def write(self, message: EmailMessage) -> Path:
        """Store an already built message; return the path of its file."""
        data = message.as_bytes(policy=policy.SMTP)
        name = _message_name()
        try:
            return await asyncio.to_thread(self._store, name, data)
        except OSError as exc:
            raise OutboxUnavailable(
                f"cannot write email to the outbox directory {self.directory}: "
                f"{exc.strerror or exc}; check that it is a directory authgate's user can write.",
                details={"directory": str(self.directory)},
            ) from None

    def _store(self, name: str, data: bytes) -> Path:
        _ensure_directory(self.directory)
        return _write_atomically(self.directory, name, data)


def outbox_files(directory: Path | str) -> list[Path]:
    """The message files of an outbox, oldest first (none when the directory is missing)."""
    path = Path(directory)
    if not path.is_dir():
        return []
    return sorted(
        (
            entry
            for entry in path.iterdir()
            if entry.name.endswith(SUFFIX) and not entry.name.startswith(".") and entry.is_file()
        ),
        key=lambda entry: entry.name,
    )


def read_outbox(directory: Path | str) -> list[EmailMessage]:
    """Parse every message of an outbox, oldest first."""
    parser = BytesParser(_class=EmailMessage, policy=policy.default)
    messages: list[EmailMessage] = []
    for entry in outbox_files(directory):
        parsed = parser.parsebytes(entry.read_bytes())
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages

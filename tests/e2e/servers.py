"""Real peers for end-to-end tests: `authgate` processes and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

AUTHGATE = str(Path(sys.executable).with_name("authgate"))
READY_TIMEOUT = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of an authgate process: no inherited AUTHGATE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHGATE_")}
    env["AUTHGATE_DATA_DIR"] = str(data_dir)
    env.update({f"AUTHGATE_{k.upper()}": v for k, v in settings.items()})
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run an `authgate` command to completion."""
    return subprocess.run(
        [AUTHGATE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@dataclass
class Server:
    """One `authgate serve` process; its stderr is kept for inspection."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {
            **self.env,
            "AUTHGATE_PORT": str(self.port),
            "AUTHGATE_PUBLIC_URL": self.env.get("AUTHGATE_PUBLIC_URL", self.url),
        }
        with self.log_path.open("wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [AUTHGATE, "serve"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"authgate serve exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling for readiness, not timing a result
        raise RuntimeError(f"authgate serve was not ready in {READY_TIMEOUT} s:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


class _Collector:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.condition = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.condition:
            self.messages.append(message_from_bytes(envelope.content))
            self.condition.notify_all()
        return "250 OK"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self._collector = _Collector()
        self.port = free_port()
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def wait_for(self, to: str, timeout: float = 20.0) -> Message:
        """The first message to ``to``, waiting up to ``timeout`` seconds for it."""

        def found() -> Message | None:
            return next((m for m in self._collector.messages if to in str(m["To"])), None)

        with self._collector.condition:
            self._collector.condition.wait_for(lambda: found() is not None, timeout=timeout)
            message = found()
        if message is None:
            raise AssertionError(f"no email to {to} within {timeout} s")
        return message


def text_body(message: Message) -> str:
    """The text/plain part of a message."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("the message has no text/plain part")

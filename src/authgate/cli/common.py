"""What every command shares: settings with readable errors, and a runtime to act on."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeVar

from rich.console import Console

from authgate.app import Runtime, build_runtime
from authgate.config import Settings, load_settings
from authgate.errors import AuthgateError

T = TypeVar("T")
console = Console(stderr=True)
out = Console()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print an error and exit."""
    console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise SystemExit(code)


def settings_or_exit(**overrides: Any) -> Settings:
    """The settings, or a message naming the bad setting, its source and the fix."""
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except AuthgateError as exc:
        fail(exc.message)


@asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime for one command, closed afterwards."""
    built = await build_runtime(settings)
    try:
        yield built
    finally:
        await built.close()


def run(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; domain errors become one readable line and exit code 1."""

    async def main() -> T:
        return await coro_factory()

    try:
        return asyncio.run(main())
    except AuthgateError as exc:
        fail(exc.message, 1)
    except KeyboardInterrupt:
        sys.exit(130)

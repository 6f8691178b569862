"""What :class:`~authgate.client.sync_client.Client` and
:class:`~authgate.client.async_client.AsyncClient` hold alike: the device's state for one
server, its session and the bounds of local calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from authgate.client.home import DeviceHome, credentials_key
from authgate.client.local_data import LocalData, TableInfo
from authgate.client.session import SessionKeeper
from authgate.client.tokens import TokenSet
from authgate.functions.call import CallLimits

DEFAULT_TIMEOUT = 30.0
UPSTREAM_BACKSTOP = 600.0
"""Seconds an upstream connection may stall at most; the engine's own bounds are tighter."""


class ClientBase:
    """The device's state (``home``), its session and the bounds of local calls."""

    def __init__(
        self,
        server: str | None,
        *,
        root: Path | None,
        home: DeviceHome | None,
        limits: CallLimits | None,
        notice: Callable[[str], None] | None,
    ) -> None:
        self.home = home or DeviceHome.open(server, root=root, notice=notice)
        self.session = SessionKeeper(self.home)
        self.limits = limits or CallLimits()

    def _signed_in(self, tokens: TokenSet) -> TokenSet:
        self.session.save(tokens)
        self.home.remember()
        return tokens

    def _signed_out(self) -> None:
        """Forget the session and every synced credential (definitions and data stay)."""
        self.session.clear()
        for solution in self.home.synced_solutions():
            self.home.secrets.delete(credentials_key(solution))

    def tables(self, solution: str) -> list[TableInfo]:
        """The solution's local tables."""
        return LocalData(self.home.database_path(solution)).tables()

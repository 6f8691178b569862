"""The SQL runner: one bounded pool per connection credential, recycled when it changes.

A pool is keyed by the credential's id and remembers the version it was opened with. A call
that resolved a newer version opens a new pool and retires the old one (its idle
connections close at once, busy ones when their call ends), so a replaced password or host
takes effect with the next call on every node. At most ``max_pools`` pools stay open; the
least recently used one is retired past that. :meth:`SqlProxy.aclose` closes them all.

Before a pool opens, its host is checked with the egress address policy: loopback, private,
link-local and other non-public addresses are refused unless the deployment lists the host
in ``AUTHGATE_SQL_ALLOWED_HOSTS`` (database servers usually are internal, so a deployment
lists them). The check runs when the pool opens; the driver resolves the name again when
it connects.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog

from authgate.egress.addresses import IPAddress
from authgate.egress.errors import ForbiddenDestination
from authgate.egress.network import DestinationGuard, Resolver, system_resolver
from authgate.egress.policy import AddressPolicy
from authgate.errors import AuthgateError
from authgate.functions.sql_dialect import SqlDialect
from authgate.functions.sql_errors import (
    SqlConnectionInvalid,
    SqlConnectionRefused,
    SqlStatementFailed,
)
from authgate.functions.sql_ports import SqlCall, SqlConnectionValue, SqlOutcome
from authgate.sqlproxy import failures
from authgate.sqlproxy.engine import Engine
from authgate.sqlproxy.mssql import MssqlEngine
from authgate.sqlproxy.mysql import MysqlEngine
from authgate.sqlproxy.postgres import PostgresEngine
from authgate.sqlproxy.sqlite import SqliteEngine
from authgate.sqlproxy.target import ConnectionTarget, InvalidTarget, parse_target

log = structlog.get_logger("authgate.sqlproxy")
MAX_POOLS = 64

_ENGINES: dict[SqlDialect, Callable[..., Engine]] = {
    SqlDialect.POSTGRESQL: PostgresEngine,
    SqlDialect.MYSQL: MysqlEngine,
    SqlDialect.SQLITE: SqliteEngine,
    SqlDialect.MSSQL: MssqlEngine,
}


@dataclass(slots=True)
class _Pool:
    version: int
    engine: Engine


class SqlProxy:
    """Implements :class:`authgate.functions.sql_ports.SqlRunner`."""

    def __init__(
        self,
        *,
        pool_size: int,
        statement_seconds: float,
        allowed_hosts: Iterable[str] = (),
        sqlite_dir: Path | None = None,
        max_pools: int = MAX_POOLS,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._pool_size = pool_size
        self._statement_seconds = statement_seconds
        self._guard = DestinationGuard(AddressPolicy.from_entries(allowed_hosts), resolver)
        self._sqlite_dir = sqlite_dir
        self._max_pools = max_pools
        self._pools: OrderedDict[str, _Pool] = OrderedDict()
        self._opening: dict[str, asyncio.Lock] = {}
        self._retiring: set[asyncio.Task[None]] = set()

    @property
    def open_pools(self) -> int:
        """How many pools are open (for tests and metrics)."""
        return len(self._pools)

    async def run(self, connection: SqlConnectionValue, call: SqlCall) -> SqlOutcome:
        """Run ``call`` through the pool of ``connection``."""
        engine = await self._engine(connection, call)
        try:
            return await engine.run(call)
        except AuthgateError:
            raise
        except Exception as error:
            # A driver failure nobody mapped: its message may quote data, so only its type
            # is logged, and the caller hears a stable code.
            log.warning(
                "sql_call_failed",
                function=call.function,
                connection=call.connection,
                error_type=type(error).__name__,
            )
            raise SqlStatementFailed(
                f"The SQL function '{call.function}' failed in the database driver",
                "the server's log names the kind of failure; check the function and connection",
            ) from None

    async def _engine(self, connection: SqlConnectionValue, call: SqlCall) -> Engine:
        key = connection.credential_id
        found = self._pools.get(key)
        if found is not None and found.version >= connection.version:
            self._pools.move_to_end(key)
            return found.engine
        lock = self._opening.setdefault(key, asyncio.Lock())
        async with lock:
            found = self._pools.get(key)
            if found is not None and found.version >= connection.version:
                return found.engine
            target = await self._target(connection, call)
            engine = _ENGINES[target.dialect](
                target, pool_size=self._pool_size, statement_seconds=self._statement_seconds
            )
            previous = self._pools.pop(key, None)
            self._pools[key] = _Pool(connection.version, engine)
            if previous is not None:
                self._retire(previous.engine)
            while len(self._pools) > self._max_pools:
                _, oldest = self._pools.popitem(last=False)
                self._retire(oldest.engine)
        if not lock.locked():
            self._opening.pop(key, None)
        return engine

    async def _target(self, connection: SqlConnectionValue, call: SqlCall) -> ConnectionTarget:
        try:
            target = parse_target(connection.url, sqlite_dir=self._sqlite_dir)
        except InvalidTarget as invalid:
            raise SqlConnectionInvalid(
                f"The stored connection '{call.connection}' cannot be used",
                f"{invalid}; replace the credential",
            ) from None
        if target.host is not None:
            await self._check_host(target.host, target.port or 0, call)
        return target

    async def _check_host(self, host: str, port: int, call: SqlCall) -> list[IPAddress]:
        try:
            return await self._guard.addresses(host, port)
        except ForbiddenDestination:
            raise SqlConnectionRefused(
                f"The connection '{call.connection}' names a database host this server may "
                "not reach",
                "internal and local database hosts must be listed in AUTHGATE_SQL_ALLOWED_HOSTS",
            ) from None
        except AuthgateError:
            raise failures.unreachable(
                call, "the database host name could not be resolved"
            ) from None

    def _retire(self, engine: Engine) -> None:
        task = asyncio.get_running_loop().create_task(engine.close())
        self._retiring.add(task)
        task.add_done_callback(self._retired)

    def _retired(self, task: asyncio.Task[None]) -> None:
        self._retiring.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("sql_pool_close_failed", error_type=type(task.exception()).__name__)

    async def aclose(self) -> None:
        """Close every pool (calls in progress finish first)."""
        while self._pools:
            _, pool = self._pools.popitem(last=False)
            self._retire(pool.engine)
        if self._retiring:
            await asyncio.gather(*self._retiring, return_exceptions=True)

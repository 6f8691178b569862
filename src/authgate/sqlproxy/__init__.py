"""The SQL runner of SQL functions: engines, bounded pools per connection credential.

:func:`build_sql_proxy` builds the :class:`SqlProxy` from the settings; ``authgate.app``
passes it to the SQL function engine and closes it at shutdown.
"""

from __future__ import annotations

from authgate.config import Settings
from authgate.functions.sql_ports import SqlLimits
from authgate.sqlproxy.runner import SqlProxy


def build_sql_proxy(settings: Settings) -> SqlProxy:
    """The SQL runner with the settings' pool size, timeout and address allow-list."""
    return SqlProxy(
        pool_size=settings.sql_pool_size,
        statement_seconds=settings.sql_statement_timeout,
        allowed_hosts=settings.sql_allowed_hosts,
        sqlite_dir=settings.sql_sqlite_dir,
    )


def sql_limits(settings: Settings) -> SqlLimits:
    """The statement timeout and row cap of SQL function calls, from the settings."""
    return SqlLimits(
        statement_seconds=settings.sql_statement_timeout, max_rows=settings.sql_max_rows
    )


__all__ = ["SqlProxy", "build_sql_proxy", "sql_limits"]

"""Storage adapter: SQLAlchemy Core tables, repositories and migrations (SQLite and PostgreSQL).

The domain reaches storage only through the ports in ``identity/ports.py`` and
``tokens/ports.py``; :class:`SqlStore` implements them all on one database.
"""

from __future__ import annotations

from authgate.store.attempts import MemoryAttemptCounter, RedisAttemptCounter
from authgate.store.database import create_engine
from authgate.store.migrate import current_revision, is_up_to_date, upgrade
from authgate.store.session import Database
from authgate.store.sql import SqlStore, open_store

__all__ = [
    "Database",
    "MemoryAttemptCounter",
    "RedisAttemptCounter",
    "SqlStore",
    "create_engine",
    "current_revision",
    "is_up_to_date",
    "open_store",
    "upgrade",
]

"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import JSON, DateTime, Dialect, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

E = TypeVar("E", bound=enum.StrEnum)

JsonType: TypeEngine[Any] = JSON().with_variant(JSONB(), "postgresql")
"""JSON documents: ``JSONB`` on PostgreSQL, SQLite's JSON text elsewhere."""


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time stored in UTC and always read back timezone-aware (UTC).

    Naive datetimes are refused on write: their meaning depends on the host's zone.
    SQLite keeps the UTC wall time as text (fixed width, so text order is time order).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; SQLite gets the naive UTC wall time."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: pass a timezone-aware (UTC) datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite returns; normalise PostgreSQL's zone to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class StrEnumType(TypeDecorator[E], Generic[E]):
    """A :class:`enum.StrEnum` stored as its short string value."""

    # The class, not an instance: SQLAlchemy builds the column type from it with ``length``.
    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        """Store the value; a plain string must name a member."""
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        """Read back the member."""
        return None if value is None else self.enum_class(value)

"""The append-only audit log: this module offers no way to change or remove an event."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import insert, select

from authgate.identity.models import AuditEvent
from authgate.store.driver import DriverStatement, execute
from authgate.store.session import Database
from authgate.store.tables import audit_events

MAX_PAGE = 1000
"""The most events one :meth:`SqlAuditLog.list` call returns."""

_DUPLICATE = "an audit event with this id was already written"

_a = audit_events
_APPEND = DriverStatement(insert(_a))


class SqlAuditLog:
    """:class:`authgate.identity.ports.AuditLog` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def append(self, event: AuditEvent) -> None:
        """Write one event; Conflict when an event with its id was already written."""
        values = {
            "id": event.id,
            "at": event.at,
            "action": event.action,
            "actor_id": event.actor_id,
            "org_id": event.org_id,
            "subject": event.subject,
            "ip": event.ip,
            "outcome": event.outcome,
            "details": dict(event.details),
        }
        if self._db.driver_path:
            await execute(self._db, [(_APPEND, values)], conflict=_DUPLICATE)
            return
        async with self._db.unique(_DUPLICATE, single_statement=True) as conn:
            await conn.execute(insert(_a).values(values))

    async def list(
        self, org_id: str | None, *, limit: int = 100, before: datetime | None = None
    ) -> builtins.list[AuditEvent]:
        """Newest first, at most ``limit`` (capped at :data:`MAX_PAGE`) events before ``before``.

        ``org_id=None`` lists the events of every organization.
        """
        if limit <= 0:
            return []
        query = select(_a).order_by(_a.c.at.desc(), _a.c.id.desc()).limit(min(limit, MAX_PAGE))
        if org_id is not None:
            query = query.where(_a.c.org_id == org_id)
        if before is not None:
            query = query.where(_a.c.at < before)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [AuditEvent(**row._mapping) for row in rows]

"""Users' requests to join an organization, decided by an admin."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from authgate.identity.models import JoinRequest, RequestStatus, User
from authgate.store.session import Database
from authgate.store.tables import join_requests, users
from authgate.store.users import user_from

_DUPLICATE = "this request to join already exists"

_r = join_requests


def _request_from(row: Mapping[Any, Any]) -> JoinRequest:
    return JoinRequest(
        id=row[_r.c.id],
        org_id=row[_r.c.org_id],
        user_id=row[_r.c.user_id],
        status=row[_r.c.status],
        created_at=row[_r.c.created_at],
        decided_by=row[_r.c.decided_by],
        decided_at=row[_r.c.decided_at],
    )


class SqlJoinRequestRepository:
    """:class:`authgate.identity.ports.JoinRequestRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, request: JoinRequest) -> None:
        """Insert."""
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(
                insert(_r).values(
                    id=request.id,
                    org_id=request.org_id,
                    user_id=request.user_id,
                    status=request.status,
                    created_at=request.created_at,
                    decided_by=request.decided_by,
                    decided_at=request.decided_at,
                )
            )

    async def get(self, org_id: str, request_id: str) -> JoinRequest | None:
        """By id, only within the organization (another organization's id finds nothing)."""
        query = select(_r).where(_r.c.id == request_id, _r.c.org_id == org_id)
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _request_from(row._mapping)

    async def find_pending(self, org_id: str, user_id: str) -> JoinRequest | None:
        """The user's pending request to this organization, if any (the newest)."""
        query = (
            select(_r)
            .where(_r.c.org_id == org_id, _r.c.user_id == user_id)
            .where(_r.c.status == RequestStatus.PENDING)
            .order_by(_r.c.created_at.desc())
            .limit(1)
        )
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _request_from(row._mapping)

    async def list_for_org(
        self, org_id: str, status: RequestStatus | None = None
    ) -> list[tuple[JoinRequest, User]]:
        """Requests with their users, newest first, optionally only those in ``status``."""
        query = (
            select(_r, users).join(users, users.c.id == _r.c.user_id).where(_r.c.org_id == org_id)
        )
        if status is not None:
            query = query.where(_r.c.status == status)
        query = query.order_by(_r.c.created_at.desc(), _r.c.id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [(_request_from(row._mapping), user_from(row._mapping)) for row in rows]

    async def decide(
        self, request_id: str, status: RequestStatus, decided_by: str, at: datetime
    ) -> bool:
        """Move a PENDING request to ``status``; True when this call did it."""
        if status is RequestStatus.PENDING:
            raise ValueError("a decision must be APPROVED or DENIED")
        # One conditional UPDATE: of two concurrent decisions exactly one matches.
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_r)
                .where(_r.c.id == request_id, _r.c.status == RequestStatus.PENDING)
                .values(status=status, decided_by=decided_by, decided_at=at)
            )
        return result.rowcount == 1

"""Email invitations to an organization."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update

from authgate.errors import NotFound
from authgate.identity.models import Invite
from authgate.store.session import Database
from authgate.store.tables import invites

_DUPLICATE = "this invitation already exists"

_i = invites


def _invite_from(row: Mapping[Any, Any]) -> Invite:
    return Invite(**row)


class SqlInviteRepository:
    """:class:`authgate.identity.ports.InviteRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, invite: Invite) -> None:
        """Insert."""
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(
                insert(_i).values(
                    id=invite.id,
                    org_id=invite.org_id,
                    email=invite.email,
                    role=invite.role,
                    token_hash=invite.token_hash,
                    invited_by=invite.invited_by,
                    created_at=invite.created_at,
                    expires_at=invite.expires_at,
                    accepted_at=invite.accepted_at,
                    revoked_at=invite.revoked_at,
                    sent_count=invite.sent_count,
                )
            )

    async def get(self, org_id: str, invite_id: str) -> Invite | None:
        """By id, only within the organization (another organization's id finds nothing)."""
        return await self._one((_i.c.id == invite_id) & (_i.c.org_id == org_id))

    async def get_by_token_hash(self, token_hash: str) -> Invite | None:
        """By the keyed hash of its token."""
        return await self._one(_i.c.token_hash == token_hash)

    async def list_for_org(self, org_id: str) -> list[Invite]:
        """Newest first."""
        query = select(_i).where(_i.c.org_id == org_id).order_by(_i.c.created_at.desc(), _i.c.id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_invite_from(row._mapping) for row in rows]

    async def update(self, invite: Invite) -> None:
        """Replace token_hash, expires_at, sent_count and revoked_at."""
        async with self._db.unique(_DUPLICATE) as conn:
            result = await conn.execute(
                update(_i)
                .where(_i.c.id == invite.id, _i.c.org_id == invite.org_id)
                .values(
                    token_hash=invite.token_hash,
                    expires_at=invite.expires_at,
                    sent_count=invite.sent_count,
                    revoked_at=invite.revoked_at,
                )
            )
            if result.rowcount != 1:
                raise NotFound("invitation not found")

    async def mark_accepted(self, invite_id: str, at: datetime) -> bool:
        """Set accepted_at only if still open; True when this call did it."""
        # One conditional UPDATE: of two concurrent acceptances exactly one matches.
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_i)
                .where(_i.c.id == invite_id, _i.c.accepted_at.is_(None), _i.c.revoked_at.is_(None))
                .values(accepted_at=at)
            )
        return result.rowcount == 1

    async def _one(self, condition: ColumnElement[bool]) -> Invite | None:
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_i).where(condition))).one_or_none()
        return None if row is None else _invite_from(row._mapping)

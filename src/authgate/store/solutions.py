"""Solutions, their published versions and their members."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, delete, insert, select, update

from authgate.errors import Conflict
from authgate.functions.ports import (
    CallTarget,
    SolutionMember,
    SolutionRecord,
    SolutionRole,
    SolutionVersion,
)
from authgate.store.driver import DriverStatement, fetch_row
from authgate.store.rotation import live
from authgate.store.session import Database
from authgate.store.tables import (
    solution_members,
    solution_versions,
    solutions,
    token_families,
    users,
)
from authgate.store.types import UtcDateTime

_s = solutions
_v = solution_versions
_m = solution_members

_TAKEN = "a solution with this name was published at the same time; publish again"
_CHANGED = "the solution was published by someone else meanwhile; publish again"

# Every function call runs it: the solution and the caller's role, in one query.
_CALL_TARGET = DriverStatement(
    select(
        *_s.c,
        _m.c.role.label("member_role"),
        users.c.email.label("user_email"),
        users.c.display_name.label("user_display_name"),
        users.c.disabled.label("user_disabled"),
        token_families.c.id.label("live_session"),
    )
    .outerjoin(_m, and_(_m.c.solution_id == _s.c.id, _m.c.user_id == bindparam("user_id")))
    .outerjoin(users, users.c.id == bindparam("user_id"))
    .outerjoin(
        token_families,
        and_(
            token_families.c.id == bindparam("session_id", type_=String()),
            *live(bindparam("at", type_=UtcDateTime())),
        ),
    )
    .where(_s.c.org_id == bindparam("org_id"), _s.c.name == bindparam("name"))
)


def _record(row: Mapping[Any, Any]) -> SolutionRecord:
    return SolutionRecord(
        id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        title=row["title"],
        description=row["description"],
        version=row["version"],
        updated_at=row["updated_at"],
    )


def _member(row: Mapping[Any, Any]) -> SolutionMember:
    return SolutionMember(row["solution_id"], row["user_id"], row["role"], row["added_at"])


class SqlSolutionRepository:
    """:class:`authgate.functions.ports.SolutionRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, org_id: str, name: str) -> SolutionRecord | None:
        """A solution by organization and name."""
        query = select(_s).where(_s.c.org_id == org_id, _s.c.name == name)
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _record(row._mapping)

    async def list_for_org(self, org_id: str) -> list[SolutionRecord]:
        """Every solution of an organization, by name."""
        query = select(_s).where(_s.c.org_id == org_id).order_by(_s.c.name)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_record(row._mapping) for row in rows]

    async def publish(self, record: SolutionRecord, version: SolutionVersion) -> None:
        """Store the version and make it current; ``Conflict`` when another publish won."""
        values = {
            "title": record.title,
            "description": record.description,
            "version": record.version,
            "updated_at": record.updated_at,
        }
        async with self._db.transaction():
            if record.version == 1:
                async with self._db.unique(_TAKEN) as conn:
                    await conn.execute(
                        insert(_s).values(
                            id=record.id, org_id=record.org_id, name=record.name, **values
                        )
                    )
            else:
                async with self._db.connection() as conn:
                    # Compare-and-set on the version: two publishers never both win.
                    result = await conn.execute(
                        update(_s)
                        .where(_s.c.id == record.id, _s.c.version == record.version - 1)
                        .values(values)
                    )
                if result.rowcount != 1:
                    raise Conflict(_CHANGED)
            async with self._db.unique(_CHANGED) as conn:
                await conn.execute(
                    insert(_v).values(
                        solution_id=version.solution_id,
                        version=version.version,
                        document=dict(version.document),
                        warnings=list(version.warnings),
                        published_by=version.published_by,
                        published_at=version.published_at,
                    )
                )

    async def version(self, solution_id: str, version: int) -> SolutionVersion | None:
        """One published version."""
        query = select(_v).where(_v.c.solution_id == solution_id, _v.c.version == version)
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        found = row._mapping
        return SolutionVersion(
            solution_id=found["solution_id"],
            version=found["version"],
            document=found["document"],
            warnings=tuple(found["warnings"]),
            published_by=found["published_by"],
            published_at=found["published_at"],
        )

    async def call_target(
        self,
        org_id: str,
        name: str,
        user_id: str,
        session: tuple[str, datetime] | None = None,
    ) -> CallTarget | None:
        """The solution and the user's role in it (``role`` None when not a member), the
        user's profile, and whether ``session`` is live."""
        session_id, at = session if session is not None else (None, datetime.now(UTC))
        values = {
            "org_id": org_id,
            "name": name,
            "user_id": user_id,
            "session_id": session_id,
            "at": at,
        }
        if self._db.driver_path:
            row = await fetch_row(self._db, _CALL_TARGET, values)
        else:
            async with self._db.connection(write=False) as conn:
                found = (await conn.execute(_CALL_TARGET.statement, values)).one_or_none()
            row = None if found is None else dict(found._mapping)
        if row is None:
            return None
        role = row["member_role"]
        return CallTarget(
            _record(row),
            None if role is None else SolutionRole(role),
            user_email=row["user_email"],
            user_display_name=row["user_display_name"],
            user_active=row["user_email"] is not None and not row["user_disabled"],
            session_live=session is None or row["live_session"] is not None,
        )

    async def set_member(self, member: SolutionMember) -> None:
        """Add a member or change their role."""
        async with self._db.transaction(), self._db.connection() as conn:
            changed = await conn.execute(
                update(_m)
                .where(_m.c.solution_id == member.solution_id, _m.c.user_id == member.user_id)
                .values(role=member.role)
            )
            if changed.rowcount == 0:
                await conn.execute(
                    insert(_m).values(
                        solution_id=member.solution_id,
                        user_id=member.user_id,
                        role=member.role,
                        added_at=member.added_at,
                    )
                )

    async def remove_member(self, solution_id: str, user_id: str) -> bool:
        """Remove a member; True when there was one."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                delete(_m).where(_m.c.solution_id == solution_id, _m.c.user_id == user_id)
            )
        return result.rowcount == 1

    async def list_members(self, solution_id: str) -> list[SolutionMember]:
        """The members of a solution, oldest first."""
        query = select(_m).where(_m.c.solution_id == solution_id).order_by(_m.c.added_at)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_member(row._mapping) for row in rows]

    async def delete(self, solution_id: str) -> bool:
        """Remove a solution with its versions and members; True when it existed."""
        async with self._db.transaction(), self._db.connection() as conn:
            await conn.execute(delete(_m).where(_m.c.solution_id == solution_id))
            await conn.execute(delete(_v).where(_v.c.solution_id == solution_id))
            result = await conn.execute(delete(_s).where(_s.c.id == solution_id))
        return result.rowcount == 1

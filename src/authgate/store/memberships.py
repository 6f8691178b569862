"""Who belongs to which organization, with which role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.identity.models import Membership, Organization, Role, User
from authgate.store.driver import DriverStatement, Row, fetch_all, fetch_row
from authgate.store.organizations import load_organizations, organization_from
from authgate.store.session import Database
from authgate.store.tables import memberships, organization_domains, organizations, users
from authgate.store.users import user_from

_m = memberships
_o = organizations
_d = organization_domains

# A user's memberships, organizations and their domains in one query (a row per domain):
# sign-in runs it on every request.
# Every request of a signed-in user through the apps gateway reads it: on the driver path.
_ACTIVE_ROLE = DriverStatement(
    select(_m.c.role)
    .join(users, users.c.id == _m.c.user_id)
    .where(
        _m.c.org_id == bindparam("org_id"),
        _m.c.user_id == bindparam("user_id"),
        _m.c.role != Role.DENY.value,
        users.c.disabled.is_(False),
    )
)
_ACTIVE_MEMBER = DriverStatement(
    select(_m.c.role.label("member_role"), *users.c)
    .join(users, users.c.id == _m.c.user_id)
    .where(
        _m.c.org_id == bindparam("org_id"),
        _m.c.user_id == bindparam("user_id"),
        _m.c.role != Role.DENY.value,
        users.c.disabled.is_(False),
    )
)

_FOR_USER = DriverStatement(
    select(*_m.c, *(c.label(f"o_{c.name}") for c in _o.c), _d.c.domain.label("o_domain"))
    .join(_o, _o.c.id == _m.c.org_id)
    .outerjoin(_d, _d.c.org_id == _o.c.id)
    .where(_m.c.user_id == bindparam("user_id"))
    .order_by(_o.c.slug, _d.c.position)
)


def _memberships_from(rows: list[Row]) -> list[tuple[Membership, Organization]]:
    grouped: dict[str, tuple[Row, list[str]]] = {}
    for row in rows:
        _, domains = grouped.setdefault(row["o_id"], (row, []))
        if row["o_domain"] is not None:
            domains.append(row["o_domain"])
    return [
        (
            membership_from({c: row[c.name] for c in _m.c}),
            organization_from({c: row[f"o_{c.name}"] for c in _o.c}, domains),
        )
        for row, domains in grouped.values()
    ]


def membership_from(row: Mapping[Any, Any]) -> Membership:
    """Build a :class:`Membership` from a row holding the ``memberships`` columns."""
    return Membership(
        org_id=row[_m.c.org_id],
        user_id=row[_m.c.user_id],
        role=row[_m.c.role],
        created_at=row[_m.c.created_at],
    )


def _upsert(conn: AsyncConnection, membership: Membership) -> Any:
    values = {
        "org_id": membership.org_id,
        "user_id": membership.user_id,
        "role": membership.role,
        "created_at": membership.created_at,
    }
    # Both dialects spell ON CONFLICT the same way; the statement classes differ.
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(_m).values(values)
    return statement.on_conflict_do_update(
        index_elements=[_m.c.org_id, _m.c.user_id], set_={"role": statement.excluded.role}
    )


class SqlMembershipRepository:
    """:class:`authgate.identity.ports.MembershipRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, membership: Membership) -> None:
        """Insert, or replace the role of an existing (org, user) membership."""
        async with self._db.connection() as conn:
            await conn.execute(_upsert(conn, membership))

    async def get(self, org_id: str, user_id: str) -> Membership | None:
        """One membership."""
        query = select(_m).where(_m.c.org_id == org_id, _m.c.user_id == user_id)
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else membership_from(row._mapping)

    async def active_role(self, org_id: str, user_id: str) -> Role | None:
        """The role, when the user is enabled and the role is not DENY; one query."""
        values = {"org_id": org_id, "user_id": user_id}
        if self._db.driver_path:
            found = await fetch_row(self._db, _ACTIVE_ROLE, values)
            return None if found is None else Role(found["role"])
        async with self._db.connection(write=False) as conn:
            role = (await conn.execute(_ACTIVE_ROLE.statement, values)).scalar_one_or_none()
        return None if role is None else Role(role)

    async def active_member(self, org_id: str, user_id: str) -> tuple[User, Role] | None:
        """:meth:`active_role` with the user, in one read."""
        values = {"org_id": org_id, "user_id": user_id}
        if self._db.driver_path:
            found = await fetch_row(self._db, _ACTIVE_MEMBER, values)
            if found is None:
                return None
            return user_from({c: found[c.name] for c in users.c}), Role(found["member_role"])
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(_ACTIVE_MEMBER.statement, values)).one_or_none()
        if row is None:
            return None
        return user_from(row._mapping), Role(row._mapping["member_role"])

    async def delete(self, org_id: str, user_id: str) -> bool:
        """Remove; True when one existed."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                delete(_m).where(_m.c.org_id == org_id, _m.c.user_id == user_id)
            )
        return result.rowcount == 1

    async def list_for_org(self, org_id: str) -> list[tuple[Membership, User]]:
        """Members of an organization with their users, ordered by email."""
        query = (
            select(_m, users)
            .join(users, users.c.id == _m.c.user_id)
            .where(_m.c.org_id == org_id)
            .order_by(users.c.email)
        )
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [(membership_from(row._mapping), user_from(row._mapping)) for row in rows]

    async def list_for_user(self, user_id: str) -> list[tuple[Membership, Organization]]:
        """A user's memberships with their organizations, ordered by slug."""
        if self._db.driver_path:
            return _memberships_from(await fetch_all(self._db, _FOR_USER, {"user_id": user_id}))
        query = (
            select(_m, organizations)
            .join(organizations, organizations.c.id == _m.c.org_id)
            .where(_m.c.user_id == user_id)
            .order_by(organizations.c.slug)
        )
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
            orgs = await load_organizations(conn, rows)
        return [(membership_from(row._mapping), org) for row, org in zip(rows, orgs, strict=True)]

    async def count_role(self, org_id: str, role: str) -> int:
        """How many members of the organization hold ``role``."""
        query = (
            select(func.count())
            .select_from(_m)
            .where(_m.c.org_id == org_id, _m.c.role == Role(role))
        )
        async with self._db.connection(write=False) as conn:
            return int((await conn.execute(query)).scalar_one())

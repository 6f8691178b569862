"""Organizations and the email domains they verified."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from authgate.errors import NotFound
from authgate.identity.models import Organization
from authgate.store.session import Database
from authgate.store.tables import organization_domains, organizations

_SLUG_TAKEN = "an organization with this slug already exists; choose another slug"

_o = organizations
_d = organization_domains


def _normalise(domains: Iterable[str]) -> list[str]:
    # Lower-case and drop repeats, keeping the organization's order.
    return list(dict.fromkeys(domain.lower() for domain in domains))


async def _insert_domains(conn: AsyncConnection, org_id: str, domains: Iterable[str]) -> None:
    rows = [
        {"org_id": org_id, "domain": domain, "position": position}
        for position, domain in enumerate(_normalise(domains))
    ]
    if rows:
        await conn.execute(insert(_d), rows)


def organization_from(row: Mapping[Any, Any], domains: Sequence[str]) -> Organization:
    """Build an :class:`Organization` from a row holding the ``organizations`` columns."""
    return Organization(
        id=row[_o.c.id],
        slug=row[_o.c.slug],
        name=row[_o.c.name],
        domains=tuple(domains),
        domain_join=row[_o.c.domain_join],
        request_email=row[_o.c.request_email],
        created_at=row[_o.c.created_at],
    )


async def load_organizations(conn: AsyncConnection, rows: Sequence[Row[Any]]) -> list[Organization]:
    """Attach the domains to organization rows with one extra query (none when empty)."""
    if not rows:
        return []
    ids = {row._mapping[_o.c.id] for row in rows}
    found = await conn.execute(
        select(_d.c.org_id, _d.c.domain).where(_d.c.org_id.in_(ids)).order_by(_d.c.position)
    )
    domains: dict[str, list[str]] = {org_id: [] for org_id in ids}
    for org_id, domain in found:
        domains[org_id].append(domain)
    return [organization_from(row._mapping, domains[row._mapping[_o.c.id]]) for row in rows]


class SqlOrganizationRepository:
    """:class:`authgate.identity.ports.OrganizationRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, org: Organization) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the slug is taken."""
        async with self._db.unique(_SLUG_TAKEN) as conn:
            await conn.execute(
                insert(_o).values(
                    id=org.id,
                    slug=org.slug,
                    name=org.name,
                    domain_join=org.domain_join,
                    request_email=org.request_email,
                    created_at=org.created_at,
                )
            )
            await _insert_domains(conn, org.id, org.domains)

    async def get(self, org_id: str) -> Organization | None:
        """By id."""
        return await self._one(_o.c.id == org_id)

    async def get_by_slug(self, slug: str) -> Organization | None:
        """By slug (exact)."""
        return await self._one(_o.c.slug == slug)

    async def update(self, org: Organization) -> None:
        """Replace name, domains, domain_join and request_email; NotFound when absent."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_o)
                .where(_o.c.id == org.id)
                .values(name=org.name, domain_join=org.domain_join, request_email=org.request_email)
            )
            if result.rowcount != 1:
                raise NotFound("organization not found")
            await conn.execute(delete(_d).where(_d.c.org_id == org.id))
            await _insert_domains(conn, org.id, org.domains)

    async def find_by_domain(self, domain: str) -> list[Organization]:
        """Organizations that verified this email domain, ordered by slug."""
        query = (
            select(_o)
            .join(_d, _d.c.org_id == _o.c.id)
            .where(_d.c.domain == domain.lower())
            .order_by(_o.c.slug)
        )
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
            return await load_organizations(conn, rows)

    async def count(self) -> int:
        """How many organizations exist."""
        async with self._db.connection(write=False) as conn:
            return int((await conn.execute(select(func.count()).select_from(_o))).scalar_one())

    async def _one(self, condition: ColumnElement[bool]) -> Organization | None:
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(select(_o).where(condition))).all()
            found = await load_organizations(conn, rows)
        return found[0] if found else None

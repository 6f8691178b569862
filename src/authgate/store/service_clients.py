"""Confidential clients of the client-credentials grant, one organization each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from authgate.errors import NotFound
from authgate.store.session import Database
from authgate.store.tables import service_clients
from authgate.tokens.models import ServiceClient

_ID_TAKEN = "a service client with this client id already exists"

_c = service_clients


def _client_from(row: Mapping[Any, Any]) -> ServiceClient:
    return ServiceClient(
        client_id=row["client_id"],
        org_id=row["org_id"],
        name=row["name"],
        secret_hash=row["secret_hash"],
        scopes=tuple(row["scopes"]),
        created_at=row["created_at"],
        disabled=row["disabled"],
    )


class SqlServiceClientRepository:
    """:class:`authgate.tokens.ports.ServiceClientRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, client: ServiceClient) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the client id is taken."""
        async with self._db.unique(_ID_TAKEN) as conn:
            await conn.execute(
                insert(_c).values(
                    client_id=client.client_id,
                    org_id=client.org_id,
                    name=client.name,
                    secret_hash=client.secret_hash,
                    scopes=list(client.scopes),
                    created_at=client.created_at,
                    disabled=client.disabled,
                )
            )

    async def get(self, client_id: str) -> ServiceClient | None:
        """By client id."""
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_c).where(_c.c.client_id == client_id))).one_or_none()
        return None if row is None else _client_from(row._mapping)

    async def list_for_org(self, org_id: str) -> list[ServiceClient]:
        """An organization's clients, by name."""
        query = select(_c).where(_c.c.org_id == org_id).order_by(_c.c.name, _c.c.client_id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_client_from(row._mapping) for row in rows]

    async def update(self, client: ServiceClient) -> None:
        """Replace name, secret_hash, scopes and disabled; NotFound when absent."""
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_c)
                .where(_c.c.client_id == client.client_id)
                .values(
                    name=client.name,
                    secret_hash=client.secret_hash,
                    scopes=list(client.scopes),
                    disabled=client.disabled,
                )
            )
            if result.rowcount != 1:
                raise NotFound("service client not found")

    async def delete(self, client_id: str) -> bool:
        """Remove; True when one existed."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_c).where(_c.c.client_id == client_id))
        return result.rowcount == 1

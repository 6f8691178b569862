"""The apps gateway's registry and nonce cache on SQL.

:class:`SqlRegistryRepository` implements :class:`authgate.signedfetch.ports.RegistryRepository`
and, for ``authgate keys rotate-kek``, :class:`authgate.vault.ports.KeyRotationRepository`
over the sealed secrets of containers and apps. :class:`SqlNonceStore` is the replay cache
used when no Redis is configured: a duplicate (consumer key, timestamp, nonce) is refused by
the primary key, on every node that shares the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, union_all, update

from authgate.crypto.envelope import SealedSecret
from authgate.errors import Conflict
from authgate.signedfetch.registry import (
    App,
    Container,
    StoredApp,
    StoredContainer,
    app_context,
    container_context,
)
from authgate.store.driver import DriverStatement, execute
from authgate.store.session import Database
from authgate.store.tables import signed_fetch_apps, signed_fetch_containers, signed_fetch_nonces
from authgate.store.vault_connections import sealed_from
from authgate.vault.models import WrappedKeyRow

_c = signed_fetch_containers
_a = signed_fetch_apps
_n = signed_fetch_nonces
_CONTAINER_TAKEN = "a container with this name or consumer key is already registered"
_APP_TAKEN = "an app with this app id is already registered; choose another"
_SEEN = "nonce seen"
_INSERT_NONCE = DriverStatement(
    insert(_n).values(
        consumer_key=bindparam("consumer_key"),
        timestamp=bindparam("timestamp"),
        nonce=bindparam("nonce"),
        expires_at=bindparam("expires_at"),
    )
)
_CONTAINER_ROW = "signed-fetch container"
_APP_ROW = "signed-fetch app"


def _sealed_values(sealed: SealedSecret | None) -> dict[str, Any]:
    if sealed is None:
        return {"ciphertext": None, "wrapped_key": None, "kek_id": None}
    return {
        "ciphertext": sealed.ciphertext,
        "wrapped_key": sealed.wrapped_key,
        "kek_id": sealed.kek_id,
    }


def _container_values(stored: StoredContainer) -> dict[str, Any]:
    c = stored.container
    return {
        "org_id": c.org_id,
        "name": c.name,
        "consumer_key": c.consumer_key,
        "instance_id": c.instance_id,
        "key_type": c.key_type,
        "public_key_pem": c.public_key_pem,
        "secret_version": c.secret_version,
        "description": c.description,
        "updated_at": c.updated_at,
        **_sealed_values(stored.sealed),
    }


def _container_from(row: Mapping[Any, Any]) -> StoredContainer:
    container = Container(
        id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        consumer_key=row["consumer_key"],
        instance_id=row["instance_id"],
        key_type=row["key_type"],
        public_key_pem=row["public_key_pem"],
        description=row["description"],
        secret_version=row["secret_version"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    return StoredContainer(container, sealed_from(row) if row["kek_id"] else None)


def _app_values(stored: StoredApp) -> dict[str, Any]:
    a = stored.app
    return {
        "org_id": a.org_id,
        "app_id": a.app_id,
        "app_url": a.app_url,
        "home_servers": list(a.home_servers),
        "consumer_key": a.consumer_key,
        "signature_method": a.signature_method,
        "secret_version": a.secret_version,
        "description": a.description,
        "updated_at": a.updated_at,
        **_sealed_values(stored.sealed),
    }


def _app_from(row: Mapping[Any, Any]) -> StoredApp:
    app = App(
        id=row["id"],
        org_id=row["org_id"],
        app_id=row["app_id"],
        app_url=row["app_url"],
        home_servers=tuple(row["home_servers"]),
        consumer_key=row["consumer_key"],
        signature_method=row["signature_method"],
        description=row["description"],
        secret_version=row["secret_version"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    return StoredApp(app, sealed_from(row))


class SqlRegistryRepository:
    """Containers and apps, with their sealed secrets."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_container(self, stored: StoredContainer) -> None:
        """Insert; Conflict when the name or consumer key is taken."""
        c = stored.container
        async with self._db.unique(_CONTAINER_TAKEN) as conn:
            await conn.execute(
                insert(_c).values(
                    id=c.id,
                    created_by=c.created_by,
                    created_at=c.created_at,
                    **_container_values(stored),
                )
            )

    async def replace_container(self, stored: StoredContainer) -> None:
        """Update in place; Conflict when the new consumer key is another's."""
        async with self._db.unique(_CONTAINER_TAKEN) as conn:
            await conn.execute(
                update(_c).where(_c.c.id == stored.container.id).values(**_container_values(stored))
            )

    async def get_container(self, org_id: str, name: str) -> StoredContainer | None:
        """By organization and name."""
        return await self._one_container((_c.c.org_id == org_id) & (_c.c.name == name))

    async def container_by_key(self, consumer_key: str) -> StoredContainer | None:
        """By consumer key."""
        return await self._one_container(_c.c.consumer_key == consumer_key)

    async def list_containers(self, org_id: str) -> list[Container]:
        """The organization's containers by name."""
        query = select(_c).where(_c.c.org_id == org_id).order_by(_c.c.name)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_container_from(row._mapping).container for row in rows]

    async def delete_container(self, container_id: str) -> bool:
        """Remove; True when it existed."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_c).where(_c.c.id == container_id))
        return result.rowcount == 1

    async def add_app(self, stored: StoredApp) -> None:
        """Insert; Conflict when the app id is taken."""
        a = stored.app
        async with self._db.unique(_APP_TAKEN) as conn:
            await conn.execute(
                insert(_a).values(
                    id=a.id, created_by=a.created_by, created_at=a.created_at, **_app_values(stored)
                )
            )

    async def replace_app(self, stored: StoredApp) -> None:
        """Update in place."""
        async with self._db.connection() as conn:
            await conn.execute(
                update(_a).where(_a.c.id == stored.app.id).values(**_app_values(stored))
            )

    async def get_app(self, app_id: str) -> StoredApp | None:
        """By app id."""
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_a).where(_a.c.app_id == app_id))).one_or_none()
        return None if row is None else _app_from(row._mapping)

    async def list_apps(self, org_id: str) -> list[App]:
        """The organization's apps by app id."""
        query = select(_a).where(_a.c.org_id == org_id).order_by(_a.c.app_id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_app_from(row._mapping).app for row in rows]

    async def delete_app(self, app_row_id: str) -> bool:
        """Remove; True when it existed."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_a).where(_a.c.id == app_row_id))
        return result.rowcount == 1

    async def _one_container(self, condition: Any) -> StoredContainer | None:
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_c).where(condition))).one_or_none()
        return None if row is None else _container_from(row._mapping)

    # --- key rotation -----------------------------------------------------------------

    async def count_by_kek(self) -> dict[str, int]:
        """Sealed secrets per KEK id (RSA containers hold none)."""
        keks = union_all(
            select(_c.c.kek_id).where(_c.c.kek_id.is_not(None)), select(_a.c.kek_id)
        ).subquery()
        query = select(keks.c.kek_id, func.count()).group_by(keks.c.kek_id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return {str(kek_id): int(count) for kek_id, count in rows}

    async def wrapped_elsewhere(self, current_kek_id: str, limit: int) -> list[WrappedKeyRow]:
        """Up to ``limit`` secrets wrapped by another KEK: containers first, then apps."""
        containers = (
            select(_c)
            .where(_c.c.kek_id.is_not(None) & (_c.c.kek_id != current_kek_id))
            .order_by(_c.c.id)
            .limit(limit)
        )
        apps = select(_a).where(_a.c.kek_id != current_kek_id).order_by(_a.c.id)
        found: list[WrappedKeyRow] = []
        async with self._db.connection(write=False) as conn:
            for row in (await conn.execute(containers)).all():
                m = row._mapping
                context = container_context(m["org_id"], m["id"], m["secret_version"])
                found.append(_wrapped(m, context))
            if len(found) < limit:
                for row in (await conn.execute(apps.limit(limit - len(found)))).all():
                    m = row._mapping
                    found.append(
                        _wrapped(m, app_context(m["org_id"], m["id"], m["secret_version"]))
                    )
        return found

    async def rewrap(self, row: WrappedKeyRow, sealed: SealedSecret) -> bool:
        """Compare-and-set the wrapped key of one container or app."""
        table = _c if row.bound_to and row.bound_to[0] == _CONTAINER_ROW else _a
        statement = (
            update(table)
            .where(
                (table.c.id == row.credential_id)
                & (table.c.secret_version == row.version)
                & (table.c.kek_id == row.sealed.kek_id)
                & (table.c.wrapped_key == row.sealed.wrapped_key)
            )
            .values(wrapped_key=sealed.wrapped_key, kek_id=sealed.kek_id)
        )
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        return result.rowcount == 1


def _wrapped(row: Mapping[Any, Any], context: tuple[str, ...]) -> WrappedKeyRow:
    return WrappedKeyRow(
        row["org_id"], row["id"], row["secret_version"], sealed_from(row), bound_to=context
    )


class SqlNonceStore:
    """The replay cache in the database, for deployments without Redis."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, consumer_key: str, timestamp: int, nonce: str, expires_at: datetime
    ) -> bool:
        """Insert the nonce; False when the primary key says it was seen."""
        values = {
            "consumer_key": consumer_key,
            "timestamp": timestamp,
            "nonce": nonce,
            "expires_at": expires_at,
        }
        try:
            if self._db.driver_path:
                await execute(self._db, [(_INSERT_NONCE, values)], conflict=_SEEN)
            else:
                async with self._db.unique(_SEEN) as conn:
                    await conn.execute(insert(_n).values(**values))
        except Conflict:
            return False
        return True

    async def prune(self, now: datetime) -> int:
        """Forget nonces whose timestamps can no longer pass the window."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_n).where(_n.c.expires_at < now))
        return int(result.rowcount)

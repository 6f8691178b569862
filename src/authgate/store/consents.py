"""What users allowed which apps, on SQL.

Reading one consent runs on every authorization, so it takes the driver path. Revoking a
consent also revokes, in the same transaction, every live session (refresh-token family) the
app holds for the person: what they withdrew stops working at once, not at the next expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from authgate.identity.models import User
from authgate.provider.models import Consent, OAuthClient
from authgate.store.driver import DriverStatement
from authgate.store.oauth_clients import client_from_row
from authgate.store.provider_tables import oauth_clients, oauth_consents
from authgate.store.rotation import live
from authgate.store.rows import column_values, read_row
from authgate.store.session import Database
from authgate.store.tables import token_families, users
from authgate.store.users import user_from

REVOKED_REASON = "consent revoked"
"""``revoked_reason`` of a family revoked because the person withdrew the app's consent."""

_c = oauth_consents
_f = token_families
_GET = DriverStatement(
    select(_c).where(
        (_c.c.user_id == bindparam("user_id")) & (_c.c.client_id == bindparam("client_id"))
    )
)
# Prefixed, so that the joined table's columns keep their own names in the row.
_CONSENT_COLUMNS = [column.label(f"consent_{column.name}") for column in _c.c]


def _consent(row: Mapping[Any, Any], prefix: str = "") -> Consent:
    return Consent(**{column.name: row[prefix + column.name] for column in _c.c})


class SqlConsentRepository:
    """:class:`authgate.provider.ports.ConsentRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: str, client_id: str) -> Consent | None:
        """One person's consent for one app."""
        row = await read_row(self._db, _GET, {"user_id": user_id, "client_id": client_id})
        return None if row is None else _consent(row)

    async def put(self, consent: Consent) -> None:
        """Insert, or replace the scope and ``updated_at`` of the pair's consent (its
        ``created_at`` stays the first grant's)."""
        async with self._db.connection() as conn:
            dialect_insert = (
                postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            )
            statement = dialect_insert(_c).values(column_values(consent, _c))
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[_c.c.user_id, _c.c.client_id],
                    set_={
                        "scope": statement.excluded.scope,
                        "updated_at": statement.excluded.updated_at,
                    },
                )
            )

    async def list_for_user(self, user_id: str) -> list[tuple[Consent, OAuthClient]]:
        """A person's consents with their apps, by app name."""
        query = (
            select(*_CONSENT_COLUMNS, oauth_clients)
            .join(oauth_clients, oauth_clients.c.client_id == _c.c.client_id)
            .where(_c.c.user_id == user_id)
            .order_by(oauth_clients.c.name, oauth_clients.c.client_id)
        )
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [(_consent(row._mapping, "consent_"), client_from_row(row._mapping)) for row in rows]

    async def list_for_client(self, client_id: str) -> list[tuple[Consent, User]]:
        """An app's consents with the people who gave them, by email."""
        query = (
            select(*_CONSENT_COLUMNS, users)
            .join(users, users.c.id == _c.c.user_id)
            .where(_c.c.client_id == client_id)
            .order_by(users.c.email)
        )
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [(_consent(row._mapping, "consent_"), user_from(row._mapping)) for row in rows]

    async def revoke(self, user_id: str, client_id: str, at: datetime) -> bool:
        """Delete the consent and revoke every live family the app holds for the person, in
        one transaction; True when a consent existed."""
        families = (
            update(_f)
            .where(_f.c.user_id == user_id, _f.c.client_id == client_id, *live(at))
            .values(revoked_at=at, revoked_reason=REVOKED_REASON)
        )
        async with self._db.connection() as conn:
            deleted = await conn.execute(
                delete(_c).where(_c.c.user_id == user_id, _c.c.client_id == client_id)
            )
            await conn.execute(families)
        return deleted.rowcount == 1

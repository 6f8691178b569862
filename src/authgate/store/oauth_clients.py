"""Registered OAuth clients (third-party apps) on SQL.

Reading one client runs on every authorization and token request, so it takes the driver
path. Deleting a client removes its codes, consents and pushed requests through the foreign
keys' ``ON DELETE CASCADE`` and, in the same transaction, revokes every live session
(refresh-token family) it was issued: a deleted app's tokens stop working at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select, update

from authgate.clock import utc_now
from authgate.errors import NotFound
from authgate.provider.models import GrantType, OAuthClient
from authgate.store.driver import DriverStatement
from authgate.store.provider_tables import oauth_clients
from authgate.store.rotation import live
from authgate.store.rows import column_values, insert_row, read_row
from authgate.store.session import Database
from authgate.store.tables import token_families

REVOKED_REASON = "client deleted"
"""``revoked_reason`` of a family revoked because its client was deleted."""

_ID_TAKEN = "an OAuth client with this client id already exists"

_c = oauth_clients
_f = token_families
_INSERT = DriverStatement(_c.insert())
_GET = DriverStatement(select(_c).where(_c.c.client_id == bindparam("client_id")))
# Every column but the key, the owner and the creation time: what update() replaces.
_FIXED = frozenset({"client_id", "org_id", "created_at"})


def client_from_row(row: Mapping[Any, Any]) -> OAuthClient:
    """An :class:`OAuthClient` from a row holding the ``oauth_clients`` columns by name."""
    return OAuthClient(
        client_id=row["client_id"],
        org_id=row["org_id"],
        name=row["name"],
        client_type=row["client_type"],
        application_type=row["application_type"],
        redirect_uris=tuple(row["redirect_uris"]),
        post_logout_redirect_uris=tuple(row["post_logout_redirect_uris"]),
        grant_types=tuple(GrantType(grant) for grant in row["grant_types"]),
        scopes=tuple(row["scopes"]),
        token_endpoint_auth_method=row["token_endpoint_auth_method"],
        id_token_signed_response_alg=row["id_token_signed_response_alg"],
        secret_hash=row["secret_hash"],
        logo_uri=row["logo_uri"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        disabled=row["disabled"],
        dynamic=row["dynamic"],
    )


def _values(client: OAuthClient) -> dict[str, Any]:
    # JSON columns hold lists; enums are stored by StrEnumType from their members.
    return column_values(
        client,
        _c,
        redirect_uris=list(client.redirect_uris),
        post_logout_redirect_uris=list(client.post_logout_redirect_uris),
        grant_types=[grant.value for grant in client.grant_types],
        scopes=list(client.scopes),
    )


class SqlClientRepository:
    """:class:`authgate.provider.ports.ClientRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, client: OAuthClient) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the client id is taken."""
        await insert_row(self._db, _INSERT, _values(client), _ID_TAKEN)

    async def get(self, client_id: str) -> OAuthClient | None:
        """By client id."""
        row = await read_row(self._db, _GET, {"client_id": client_id})
        return None if row is None else client_from_row(row)

    async def list_for_org(self, org_id: str) -> list[OAuthClient]:
        """An organization's clients, by name."""
        query = select(_c).where(_c.c.org_id == org_id).order_by(_c.c.name, _c.c.client_id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [client_from_row(row._mapping) for row in rows]

    async def update(self, client: OAuthClient) -> None:
        """Replace every field but ``client_id``, ``org_id`` and ``created_at``; NotFound
        when the client does not exist."""
        values = {name: value for name, value in _values(client).items() if name not in _FIXED}
        async with self._db.connection() as conn:
            result = await conn.execute(
                update(_c).where(_c.c.client_id == client.client_id).values(values)
            )
            if result.rowcount != 1:
                raise NotFound("OAuth client not found")

    async def delete(self, client_id: str) -> bool:
        """Remove the client (its codes, consents and pushed requests go with it) and revoke
        the live sessions it was issued, in one transaction; True when one existed."""
        at = utc_now()
        families = (
            update(_f)
            .where(_f.c.client_id == client_id, *live(at))
            .values(revoked_at=at, revoked_reason=REVOKED_REASON)
        )
        async with self._db.connection() as conn:
            deleted = await conn.execute(delete(_c).where(_c.c.client_id == client_id))
            if deleted.rowcount != 1:
                # Another kind of client may hold families under an id no app has.
                return False
            await conn.execute(families)
        return True

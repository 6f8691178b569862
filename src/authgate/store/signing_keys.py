"""Token signing keys; the private half arrives sealed (encrypted) and is stored as is."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from authgate.store.session import Database
from authgate.store.tables import signing_keys
from authgate.tokens.models import SigningKey

_DUPLICATE = "a signing key with this key id already exists"

_k = signing_keys


class SqlSigningKeyRepository:
    """:class:`authgate.tokens.ports.SigningKeyRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, key: SigningKey) -> None:
        """Insert a key."""
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(
                insert(_k).values(
                    kid=key.kid,
                    algorithm=key.algorithm,
                    public_jwk=dict(key.public_jwk),
                    private_key_sealed=key.private_key_sealed,
                    created_at=key.created_at,
                    retired_at=key.retired_at,
                )
            )

    async def list(self) -> builtins.list[SigningKey]:
        """Every stored key, newest first."""
        query = select(_k).order_by(_k.c.created_at.desc(), _k.c.kid)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [
            SigningKey(
                kid=row.kid,
                algorithm=row.algorithm,
                public_jwk=row.public_jwk,
                private_key_sealed=bytes(row.private_key_sealed),
                created_at=row.created_at,
                retired_at=row.retired_at,
            )
            for row in rows
        ]

    async def retire(self, kid: str, at: datetime) -> None:
        """Stop signing with this key; it stays published. A second retire keeps the first time."""
        async with self._db.connection() as conn:
            await conn.execute(
                update(_k).where(_k.c.kid == kid, _k.c.retired_at.is_(None)).values(retired_at=at)
            )

    async def delete(self, kid: str) -> None:
        """Remove a key once no token it signed can still be valid."""
        async with self._db.connection() as conn:
            await conn.execute(delete(_k).where(_k.c.kid == kid))

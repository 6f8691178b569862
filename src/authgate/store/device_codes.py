"""Device authorization requests (RFC 8628) on SQL: each change one conditional statement."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from authgate.store.session import Database
from authgate.store.tables import device_authorizations
from authgate.tokens.device_codes import DeviceAuthorization, DeviceCodeStatus

_t = device_authorizations
_DUPLICATE = "this device authorization already exists"


class SqlDeviceCodeRepository:
    """:class:`authgate.tokens.device_codes.DeviceCodeRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, authorization: DeviceAuthorization) -> None:
        """Insert a new authorization."""
        async with self._db.unique(_DUPLICATE) as conn:
            await conn.execute(
                insert(_t).values(
                    id=authorization.id,
                    device_code_hash=authorization.device_code_hash,
                    user_code_hash=authorization.user_code_hash,
                    client_id=authorization.client_id,
                    scope=authorization.scope,
                    status=authorization.status,
                    interval=authorization.interval,
                    created_at=authorization.created_at,
                    expires_at=authorization.expires_at,
                    user_id=authorization.user_id,
                    org_id=authorization.org_id,
                    decided_at=authorization.decided_at,
                    last_polled_at=authorization.last_polled_at,
                    redeemed_at=authorization.redeemed_at,
                )
            )

    async def by_device_code(self, device_code_hash: str) -> DeviceAuthorization | None:
        """By the keyed hash of the device code."""
        return await self._one(_t.c.device_code_hash == device_code_hash)

    async def by_user_code(self, user_code_hash: str) -> DeviceAuthorization | None:
        """By the keyed hash of the normalised user code."""
        return await self._one(_t.c.user_code_hash == user_code_hash)

    async def decide(
        self,
        authorization_id: str,
        status: DeviceCodeStatus,
        user_id: str,
        org_id: str | None,
        at: datetime,
    ) -> bool:
        """Record the decision while still pending; of two concurrent decisions one wins."""
        async with self._db.single_statement() as conn:
            result = await conn.execute(
                update(_t)
                .where(_t.c.id == authorization_id, _t.c.status == DeviceCodeStatus.PENDING)
                .values(status=status, user_id=user_id, org_id=org_id, decided_at=at)
            )
        return result.rowcount == 1

    async def polled(self, authorization_id: str, at: datetime) -> datetime | None:
        """Set ``last_polled_at``; the value it had before."""
        async with self._db.transaction() as conn:
            previous = (
                await conn.execute(select(_t.c.last_polled_at).where(_t.c.id == authorization_id))
            ).scalar_one_or_none()
            await conn.execute(
                update(_t).where(_t.c.id == authorization_id).values(last_polled_at=at)
            )
        return previous

    async def redeem(self, authorization_id: str, at: datetime) -> bool:
        """Mark an approved, unredeemed authorization redeemed; True for one caller only."""
        async with self._db.single_statement() as conn:
            result = await conn.execute(
                update(_t)
                .where(
                    _t.c.id == authorization_id,
                    _t.c.status == DeviceCodeStatus.APPROVED,
                    _t.c.redeemed_at.is_(None),
                )
                .values(redeemed_at=at)
            )
        return result.rowcount == 1

    async def prune(self, expired_before: datetime) -> int:
        """Delete authorizations that expired before ``expired_before``."""
        async with self._db.single_statement() as conn:
            result = await conn.execute(delete(_t).where(_t.c.expires_at < expired_before))
        return int(result.rowcount or 0)

    async def _one(self, condition: object) -> DeviceAuthorization | None:
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_t).where(condition))).one_or_none()  # type: ignore[arg-type]
        return None if row is None else DeviceAuthorization(**row._mapping)

"""Users; emails are unique and stored lower-cased."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from authgate.errors import NotFound
from authgate.identity.models import User
from authgate.store.driver import DriverStatement, fetch_row
from authgate.store.session import Database
from authgate.store.tables import users

_EMAIL_TAKEN = "a user with this email address already exists"

_u = users
_BY_EMAIL = DriverStatement(select(_u).where(_u.c.email == bindparam("email")))
_BY_ID = DriverStatement(select(_u).where(_u.c.id == bindparam("user_id")))


def user_from(row: Mapping[Any, Any]) -> User:
    """Build a :class:`User` from a row holding the ``users`` columns."""
    return User(
        id=row[_u.c.id],
        email=row[_u.c.email],
        display_name=row[_u.c.display_name],
        password_hash=row[_u.c.password_hash],
        disabled=row[_u.c.disabled],
        email_verified=row[_u.c.email_verified],
        created_at=row[_u.c.created_at],
        password_changed_at=row[_u.c.password_changed_at],
    )


def _mutable(user: User) -> dict[str, Any]:
    return {
        "email": user.email.lower(),
        "display_name": user.display_name,
        "password_hash": user.password_hash,
        "disabled": user.disabled,
        "email_verified": user.email_verified,
        "password_changed_at": user.password_changed_at,
    }


class SqlUserRepository:
    """:class:`authgate.identity.ports.UserRepository` on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, user: User) -> None:
        """Insert; raises :class:`authgate.errors.Conflict` when the email is taken."""
        async with self._db.unique(_EMAIL_TAKEN) as conn:
            await conn.execute(
                insert(_u).values(id=user.id, created_at=user.created_at, **_mutable(user))
            )

    async def get(self, user_id: str) -> User | None:
        """By id."""
        if self._db.driver_path:
            found = await fetch_row(self._db, _BY_ID, {"user_id": user_id})
            return None if found is None else user_from({c: found[c.name] for c in _u.c})
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_u).where(_u.c.id == user_id))).one_or_none()
        return None if row is None else user_from(row._mapping)

    async def get_by_email(self, email: str) -> User | None:
        """By email, compared lower-cased."""
        if self._db.driver_path:
            found = await fetch_row(self._db, _BY_EMAIL, {"email": email.lower()})
            return None if found is None else user_from({c: found[c.name] for c in _u.c})
        async with self._db.connection(write=False) as conn:
            query = select(_u).where(_u.c.email == email.lower())
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else user_from(row._mapping)

    async def update(self, user: User) -> None:
        """Replace every mutable field; Conflict when the new email is taken."""
        async with self._db.unique(_EMAIL_TAKEN) as conn:
            result = await conn.execute(update(_u).where(_u.c.id == user.id).values(_mutable(user)))
            if result.rowcount != 1:
                raise NotFound("user not found")

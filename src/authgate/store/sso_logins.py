"""The hot path of SSO logins on SQL: logins and one-time codes in flight, and the one read
that finds the person an ID token names.

Each statement is atomic alone and, outside a transaction, takes the driver path
(:mod:`authgate.store.driver`): taking a login is one ``DELETE … RETURNING`` and spending a
code one ``UPDATE … RETURNING``, so of two concurrent attempts exactly one gets the row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, bindparam, delete, func, insert, select, update

from authgate.federation.models import BrokerCode, FederatedIdentity, LoginTransaction
from authgate.federation.ports import MemberView
from authgate.identity.models import Membership, Organization, User
from authgate.store.driver import DriverStatement
from authgate.store.rows import column_values, insert_row, read_row, written_row
from authgate.store.session import Database
from authgate.store.sso_tables import sso_codes, sso_identities, sso_idps, sso_logins
from authgate.store.tables import memberships, organizations, users

_l = sso_logins
_c = sso_codes
_id = sso_identities
_o = organizations
_u = users
_m = memberships

_ADD_LOGIN = DriverStatement(insert(_l))
_TAKE_LOGIN = DriverStatement(
    delete(_l).where(_l.c.state_hash == bindparam("state_hash")).returning(*_l.c)
)
_ADD_CODE = DriverStatement(insert(_c))
_SPEND_CODE = DriverStatement(
    update(_c)
    .where(
        (_c.c.code_hash == bindparam("code_hash"))
        & _c.c.used_at.is_(None)
        & (_c.c.expires_at > bindparam("now"))
    )
    .values(used_at=bindparam("now"), session_id=bindparam("session_id"))
    .returning(*_c.c)
)
_GET_CODE = DriverStatement(select(_c).where(_c.c.code_hash == bindparam("code_hash")))


def _member_view_statement() -> Any:
    """The IdP's version, its organization, and — for an IdP account (issuer, subject) or a
    user id — the linked identity, the user and their membership there, in one query."""
    person = func.coalesce(bindparam("user_id", type_=String()), _id.c.user_id)
    columns = [
        sso_idps.c.version.label("idp_version"),
        sso_idps.c.enabled.label("idp_enabled"),
        *(column.label(f"o_{column.name}") for column in _o.c),
        *(column.label(f"i_{column.name}") for column in _id.c),
        *(column.label(f"u_{column.name}") for column in _u.c),
        _m.c.role.label("m_role"),
        _m.c.created_at.label("m_created_at"),
    ]
    joined = (
        sso_idps.join(_o, _o.c.id == sso_idps.c.org_id)
        .outerjoin(
            _id,
            and_(
                _id.c.issuer == bindparam("issuer", type_=String()),
                _id.c.subject == bindparam("subject", type_=String()),
            ),
        )
        .outerjoin(_u, _u.c.id == person)
        .outerjoin(_m, and_(_m.c.org_id == _o.c.id, _m.c.user_id == _u.c.id))
    )
    return select(*columns).select_from(joined).where(sso_idps.c.id == bindparam("idp_id"))


_MEMBER_VIEW = DriverStatement(_member_view_statement())


def _prefixed(row: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {name[len(prefix) :]: value for name, value in row.items() if name.startswith(prefix)}


def _view_from(row: Mapping[str, Any]) -> MemberView:
    o = _prefixed(row, "o_")
    org = Organization(
        o["id"], o["slug"], o["name"], (), o["domain_join"], o["request_email"], o["created_at"]
    )
    found = _prefixed(row, "i_")
    identity = FederatedIdentity(**found) if found["issuer"] is not None else None
    person = _prefixed(row, "u_")
    user = User(**person) if person["id"] is not None else None
    membership = None
    if user is not None and row["m_role"] is not None:
        membership = Membership(org.id, user.id, row["m_role"], row["m_created_at"])
    return MemberView(row["idp_version"], bool(row["idp_enabled"]), org, identity, user, membership)


class SqlSsoLogins:
    """Logins, codes and the sign-in read of :class:`SqlFederationRepository`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_transaction(self, transaction: LoginTransaction) -> None:
        """Record a login about to start."""
        await insert_row(
            self._db,
            _ADD_LOGIN,
            column_values(transaction, _l),
            "this sign-in state was already used",
        )

    async def take_transaction(self, state_hash: str, now: datetime) -> LoginTransaction | None:
        """Delete and return the login if it has not expired: one statement, so of two
        concurrent takes only one gets it."""
        row = await written_row(self._db, _TAKE_LOGIN, {"state_hash": state_hash})
        if row is None or row["expires_at"] <= now:
            return None
        return LoginTransaction(**row)

    async def add_code(self, code: BrokerCode) -> None:
        """Record a one-time code."""
        await insert_row(
            self._db, _ADD_CODE, column_values(code, _c), "this code was already issued"
        )

    async def spend_code(self, code_hash: str, now: datetime, session_id: str) -> BrokerCode | None:
        """Mark the code used by ``session_id`` if it is unspent and unexpired."""
        values = {"code_hash": code_hash, "now": now, "session_id": session_id}
        row = await written_row(self._db, _SPEND_CODE, values)
        return None if row is None else BrokerCode(**row)

    async def get_code(self, code_hash: str) -> BrokerCode | None:
        """A code whatever its state."""
        row = await read_row(self._db, _GET_CODE, {"code_hash": code_hash})
        return None if row is None else BrokerCode(**row)

    async def member_view(
        self,
        idp_id: str,
        *,
        issuer: str | None = None,
        subject: str | None = None,
        user_id: str | None = None,
    ) -> MemberView | None:
        """What signing in through the IdP needs, in one read (None: no such IdP)."""
        values = {"idp_id": idp_id, "issuer": issuer, "subject": subject, "user_id": user_id}
        row = await read_row(self._db, _MEMBER_VIEW, values)
        return None if row is None else _view_from(row)

"""SSO federation on SQL: IdPs and settings, linked IdP accounts, logins and codes in flight.

Implements :class:`authgate.federation.ports.FederationRepository`, and
:class:`authgate.vault.ports.KeyRotationRepository` for the IdPs' sealed client secrets
(``authgate keys rotate-kek`` re-wraps them with the vault's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from authgate.crypto.envelope import SealedSecret
from authgate.errors import Conflict
from authgate.federation.directory import secret_context
from authgate.federation.models import (
    Endpoints,
    FederatedIdentity,
    IdpConfig,
    SsoSettings,
)
from authgate.store.driver import DriverStatement, fetch_row
from authgate.store.rotation import live
from authgate.store.session import Database
from authgate.store.sso_logins import SqlSsoLogins
from authgate.store.sso_tables import sso_codes, sso_identities, sso_idps, sso_logins, sso_settings
from authgate.store.tables import token_families
from authgate.store.vault_connections import sealed_from
from authgate.vault.models import WrappedKeyRow

_i = sso_idps
_s = sso_settings
_SETTINGS = DriverStatement(select(_s).where(_s.c.org_id == bindparam("org_id")))
_IDP = DriverStatement(select(_i).where(_i.c.id == bindparam("idp_id")))
_id = sso_identities
_l = sso_logins
_c = sso_codes
_f = token_families


def _endpoints_from(value: Mapping[str, Any] | None) -> Endpoints | None:
    if value is None:
        return None
    return Endpoints(
        authorization=value["authorization"],
        token=value["token"],
        jwks_uri=value["jwks_uri"],
        end_session=value.get("end_session"),
    )


def _endpoints_values(endpoints: Endpoints | None) -> dict[str, Any] | None:
    if endpoints is None:
        return None
    return {
        "authorization": endpoints.authorization,
        "token": endpoints.token,
        "jwks_uri": endpoints.jwks_uri,
        "end_session": endpoints.end_session,
    }


def _idp_from(row: Mapping[Any, Any]) -> IdpConfig:
    return IdpConfig(
        id=row["id"],
        org_id=row["org_id"],
        name=row["name"],
        display_name=row["display_name"],
        type=row["type"],
        issuer=row["issuer"],
        client_id=row["client_id"],
        device_client_id=row["device_client_id"],
        scopes=tuple(row["scopes"]),
        pkce=row["pkce"],
        nonce=row["nonce"],
        domains=tuple(row["domains"]),
        tenants=tuple(row["tenants"]),
        endpoints=_endpoints_from(row["endpoints"]),
        enabled=row["enabled"],
        version=row["version"],
        secret=sealed_from(row),
        secret_version=row["secret_version"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _idp_values(idp: IdpConfig) -> dict[str, Any]:
    return {
        "id": idp.id,
        "org_id": idp.org_id,
        "name": idp.name,
        "display_name": idp.display_name,
        "type": idp.type,
        "issuer": idp.issuer,
        "client_id": idp.client_id,
        "device_client_id": idp.device_client_id,
        "scopes": list(idp.scopes),
        "pkce": idp.pkce,
        "nonce": idp.nonce,
        "domains": list(idp.domains),
        "tenants": list(idp.tenants),
        "endpoints": _endpoints_values(idp.endpoints),
        "enabled": idp.enabled,
        "version": idp.version,
        "ciphertext": idp.secret.ciphertext,
        "wrapped_key": idp.secret.wrapped_key,
        "kek_id": idp.secret.kek_id,
        "secret_version": idp.secret_version,
        "created_by": idp.created_by,
        "created_at": idp.created_at,
        "updated_at": idp.updated_at,
    }


class SqlFederationRepository(SqlSsoLogins):
    """:class:`authgate.federation.ports.FederationRepository` on SQL (logins, codes and the
    sign-in read in :class:`SqlSsoLogins`)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)

    # --- IdPs ---------------------------------------------------------------------------

    async def create_idp(self, idp: IdpConfig) -> None:
        """Insert; Conflict when the organization already has an IdP of that name."""
        async with self._db.unique("the organization already has an IdP of that name") as conn:
            await conn.execute(insert(_i).values(_idp_values(idp)))

    async def replace_idp(self, idp: IdpConfig, *, expected_version: int) -> None:
        """Compare-and-set on the version: Conflict when it changed meanwhile."""
        values = _idp_values(idp)
        for fixed in ("id", "org_id", "created_by", "created_at"):
            values.pop(fixed)
        statement = (
            update(_i)
            .where((_i.c.id == idp.id) & (_i.c.version == expected_version))
            .values(values)
        )
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        if result.rowcount != 1:
            raise Conflict("the IdP was changed or removed meanwhile; read it again and retry")

    async def get_idp(self, idp_id: str) -> IdpConfig | None:
        """By id (every SSO login reads it)."""
        if self._db.driver_path:
            found = await fetch_row(self._db, _IDP, {"idp_id": idp_id})
            return None if found is None else _idp_from(found)
        return await self._one_idp(_i.c.id == idp_id)

    async def find_idp(self, org_id: str, name: str) -> IdpConfig | None:
        """By organization and name."""
        return await self._one_idp((_i.c.org_id == org_id) & (_i.c.name == name))

    async def list_idps(self, org_id: str) -> list[IdpConfig]:
        """An organization's IdPs, by name."""
        return await self.list_idps_for_orgs([org_id])

    async def list_idps_for_orgs(self, org_ids: list[str]) -> list[IdpConfig]:
        """The IdPs of several organizations, by organization then name."""
        query = select(_i).where(_i.c.org_id.in_(org_ids)).order_by(_i.c.org_id, _i.c.name)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [_idp_from(row._mapping) for row in rows]

    async def delete_idp(self, idp_id: str) -> bool:
        """Remove the IdP with its logins and codes in flight."""
        async with self._db.connection() as conn:
            result = await conn.execute(delete(_i).where(_i.c.id == idp_id))
        return result.rowcount == 1

    async def end_sessions(self, idp_id: str, reason: str, at: datetime) -> int:
        """Revoke every live session the IdP started."""
        statement = (
            update(_f)
            .where(_f.c.idp_id == idp_id, *live(at))
            .values(revoked_at=at, revoked_reason=reason)
        )
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        return int(result.rowcount)

    async def _one_idp(self, condition: Any) -> IdpConfig | None:
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(select(_i).where(condition))).one_or_none()
        return None if row is None else _idp_from(row._mapping)

    # --- settings -----------------------------------------------------------------------

    async def get_settings(self, org_id: str) -> SsoSettings | None:
        """The organization's SSO settings, if saved (read by every password sign-in)."""
        m: Any
        if self._db.driver_path:
            m = await fetch_row(self._db, _SETTINGS, {"org_id": org_id})
        else:
            async with self._db.connection(write=False) as conn:
                row = (await conn.execute(_SETTINGS.statement, {"org_id": org_id})).one_or_none()
            m = None if row is None else row._mapping
        if m is None:
            return None
        return SsoSettings(
            m["org_id"], m["provisioning"], m["enforce_sso"], tuple(m["solutions"]), m["updated_at"]
        )

    async def put_settings(self, settings: SsoSettings) -> None:
        """Insert or replace."""
        values = {
            "provisioning": settings.provisioning,
            "enforce_sso": settings.enforce_sso,
            "solutions": list(settings.solutions),
            "updated_at": settings.updated_at,
        }
        async with self._db.transaction() as conn:
            result = await conn.execute(
                update(_s).where(_s.c.org_id == settings.org_id).values(values)
            )
            if result.rowcount == 0:
                await conn.execute(insert(_s).values(org_id=settings.org_id, **values))

    # --- identities ---------------------------------------------------------------------

    async def get_identity(self, issuer: str, subject: str) -> FederatedIdentity | None:
        """By (issuer, subject)."""
        query = select(_id).where((_id.c.issuer == issuer) & (_id.c.subject == subject))
        async with self._db.connection(write=False) as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else FederatedIdentity(**row._mapping)

    async def add_identity(self, identity: FederatedIdentity) -> None:
        """Insert; Conflict when the IdP account is linked already."""
        async with self._db.unique("this identity provider account is linked already") as conn:
            await conn.execute(
                insert(_id).values(
                    issuer=identity.issuer,
                    subject=identity.subject,
                    user_id=identity.user_id,
                    idp_id=identity.idp_id,
                    email=identity.email,
                    created_at=identity.created_at,
                    last_login_at=identity.last_login_at,
                )
            )

    async def touch_identity(self, issuer: str, subject: str, at: datetime) -> None:
        """Record a sign-in."""
        async with self._db.connection() as conn:
            await conn.execute(
                update(_id)
                .where((_id.c.issuer == issuer) & (_id.c.subject == subject))
                .values(last_login_at=at)
            )

    async def list_identities(self, user_id: str) -> list[FederatedIdentity]:
        """Every IdP account linked to the user, oldest first."""
        query = select(_id).where(_id.c.user_id == user_id).order_by(_id.c.created_at)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [FederatedIdentity(**row._mapping) for row in rows]

    async def prune(self, before: datetime) -> int:
        """Delete logins and codes that expired before ``before``."""
        async with self._db.connection() as conn:
            logins = await conn.execute(delete(_l).where(_l.c.expires_at < before))
            codes = await conn.execute(delete(_c).where(_c.c.expires_at < before))
        return int(logins.rowcount) + int(codes.rowcount)

    # --- key rotation -------------------------------------------------------------------

    async def count_by_kek(self) -> dict[str, int]:
        """Sealed client secrets per KEK id."""
        query = select(_i.c.kek_id, func.count()).group_by(_i.c.kek_id)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return {str(kek_id): int(count) for kek_id, count in rows}

    async def wrapped_elsewhere(self, current_kek_id: str, limit: int) -> list[WrappedKeyRow]:
        """Up to ``limit`` client secrets wrapped by another KEK."""
        query = select(_i).where(_i.c.kek_id != current_kek_id).order_by(_i.c.id).limit(limit)
        async with self._db.connection(write=False) as conn:
            rows = (await conn.execute(query)).all()
        return [
            WrappedKeyRow(
                m["org_id"],
                m["id"],
                m["secret_version"],
                sealed_from(m),
                bound_to=secret_context(m["org_id"], m["id"], m["secret_version"]),
            )
            for m in (row._mapping for row in rows)
        ]

    async def rewrap(self, row: WrappedKeyRow, sealed: SealedSecret) -> bool:
        """Compare-and-set the wrapped key of one IdP's client secret."""
        statement = (
            update(_i)
            .where(
                (_i.c.id == row.credential_id)
                & (_i.c.secret_version == row.version)
                & (_i.c.kek_id == row.sealed.kek_id)
                & (_i.c.wrapped_key == row.sealed.wrapped_key)
            )
            .values(wrapped_key=sealed.wrapped_key, kek_id=sealed.kek_id)
        )
        async with self._db.connection() as conn:
            result = await conn.execute(statement)
        return result.rowcount == 1

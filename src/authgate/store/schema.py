"""What every table shares: the metadata (with deterministic constraint names) and id columns.

The tables themselves are in :mod:`authgate.store.tables` and, for SSO,
:mod:`authgate.store.sso_tables`; importing :mod:`authgate.store.tables` registers them all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ForeignKey, MetaData, String

# Deterministic constraint names, so migrations can refer to them on every backend.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 64
EMAIL = 320
HASH = 128


def fk(name: str, target: str, *, on_delete: str = "CASCADE", **kwargs: Any) -> Column[str]:
    """A string id column referring to ``target`` (``table.column``)."""
    kwargs.setdefault("nullable", on_delete == "SET NULL")
    return Column(name, String(ID), ForeignKey(target, ondelete=on_delete), **kwargs)

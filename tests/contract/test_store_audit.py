"""Contract: the append-only audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from authgate.errors import Conflict
from authgate.store import SqlStore
from authgate.store.audit import SqlAuditLog

from . import records
from .records import NOW


async def test_events_round_trip_newest_first_per_organization(store: SqlStore) -> None:
    events = [records.audit_event("org-a", NOW + timedelta(seconds=second)) for second in range(3)]
    foreign = records.audit_event("org-b", NOW + timedelta(seconds=10), details={})
    platform = records.audit_event(None, NOW + timedelta(seconds=5), outcome="failure")
    for event in (*events, foreign, platform):
        await store.audit.append(event)

    assert await store.audit.list("org-a") == events[::-1]
    assert await store.audit.list("org-b") == [foreign]
    assert await store.audit.list(None) == [foreign, platform, *events[::-1]]


async def test_limit_and_before_page_through_events(store: SqlStore) -> None:
    events = [records.audit_event("org-a", NOW + timedelta(seconds=s)) for s in range(5)]
    for event in events:
        await store.audit.append(event)

    first_page = await store.audit.list("org-a", limit=2)
    assert first_page == [events[4], events[3]]
    second_page = await store.audit.list("org-a", limit=2, before=first_page[-1].at)
    assert second_page == [events[2], events[1]]
    assert await store.audit.list("org-a", limit=0) == []
    assert await store.audit.list(None, before=NOW) == []


async def test_details_keep_their_json_structure(store: SqlStore) -> None:
    details = {"ids": [1, 2], "nested": {"ok": True, "none": None}, "text": "é ✓"}
    event = records.audit_event("org-a", details=details)
    await store.audit.append(event)

    assert (await store.audit.list("org-a"))[0].details == details


async def test_an_event_cannot_be_written_twice(store: SqlStore) -> None:
    event = records.audit_event("org-a")
    await store.audit.append(event)

    with pytest.raises(Conflict):
        await store.audit.append(event)


def test_the_log_offers_no_way_to_change_or_delete() -> None:
    public = {name for name in dir(SqlAuditLog) if not name.startswith("_")}
    assert public == {"append", "list"}

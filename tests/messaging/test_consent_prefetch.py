"""``prefetch_consents`` (one query per send group) gives exactly what ``latest_consent``
gives per message: the latest row per customer and channel, ties broken by id, None when
there is none; and it changes nothing outside an engine node group."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Consent
from journeykit.messaging.compliance import GROUP_CACHE, latest_consent, prefetch_consents
from tests.delivery.conftest import Outbox


def _consent(
    s: Session, outbox: Outbox, cid: int, channel: str, granted: bool, minutes: int
) -> None:
    s.add(
        Consent(
            customer_id=cid,
            channel=channel,
            granted=granted,
            source=f"{channel}:{minutes}:{granted}",
            recorded_at=outbox.clock.now() + timedelta(minutes=minutes),
        )
    )


def test_prefetched_consent_is_the_latest_per_customer(outbox: Outbox) -> None:
    ids = [outbox.customer() for _ in range(5)]
    a, b, c, d, _none = ids
    with session_scope(outbox.engine) as s:
        _consent(s, outbox, a, "sms", True, 0)
        _consent(s, outbox, a, "sms", False, 5)  # STOP later: in force
        _consent(s, outbox, b, "sms", False, 0)
        _consent(s, outbox, b, "sms", True, 9)  # opted in again
        _consent(s, outbox, c, "sms", True, 3)
        _consent(s, outbox, c, "sms", False, 3)  # same instant: the higher id wins
        _consent(s, outbox, d, "email", True, 0)  # other channel only
    with session_scope(outbox.engine) as s:
        expected = {i: latest_consent(s, i, "sms") for i in ids}
    with session_scope(outbox.engine) as s:
        s.info[GROUP_CACHE] = {}
        prefetch_consents(s, set(ids), "sms")
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(outbox.engine, "before_cursor_execute", count)
        try:
            got = {i: latest_consent(s, i, "sms") for i in ids}
        finally:
            event.remove(outbox.engine, "before_cursor_execute", count)
        assert statements == []  # answered from the group cache
    assert {i: (r.id if r else None) for i, r in got.items()} == {
        i: (r.id if r else None) for i, r in expected.items()
    }
    granted = {i: (r.granted if r else None) for i, r in got.items()}
    assert granted == {a: False, b: True, c: False, d: None, _none: None}


def test_without_a_group_cache_nothing_is_held(outbox: Outbox) -> None:
    cid = outbox.customer()
    with session_scope(outbox.engine) as s:
        prefetch_consents(s, {cid}, "sms")  # outside a node group: a no-op
        assert GROUP_CACHE not in s.info
        _consent(s, outbox, cid, "sms", True, 0)
        s.flush()
        found = latest_consent(s, cid, "sms")
        assert found is not None and found.granted is True

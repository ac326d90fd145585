"""``prefetch_consents`` (one ledger per send group, every channel) answers exactly what
``Ledger.load`` answers per customer — including refusals shared by an address and ties of
the same instant broken by id — with no query per message; and it changes nothing outside
an engine node group."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Consent, Customer
from journeykit.messaging.compliance import GROUP_CACHE, ledger_for, prefetch_consents
from journeykit.messaging.consent import Ledger, restock_purpose
from tests.delivery.conftest import Outbox


def _consent(
    s: Session,
    outbox: Outbox,
    cid: int,
    channel: str,
    granted: bool,
    minutes: int,
    *,
    source: str = "",
    purpose: str = "marketing",
) -> None:
    s.add(
        Consent(
            customer_id=cid,
            channel=channel,
            purpose=purpose,
            granted=granted,
            source=source or f"{channel}:{minutes}:{granted}",
            recorded_at=outbox.clock.now() + timedelta(minutes=minutes),
            detail={"minutes": minutes},
        )
    )


STATES = [
    (channel, purpose)
    for channel in ("email", "sms")
    for purpose in ("marketing", "transactional", restock_purpose("SKU-1"))
]


def test_the_group_ledger_answers_as_a_ledger_per_customer(outbox: Outbox) -> None:
    ids = [outbox.customer(phone=f"+1555123000{i}") for i in range(5)]
    a, b, c, d, _none = ids
    sibling = outbox.customer(phone="+15551230000")  # shares a's number
    with session_scope(outbox.engine) as s:
        _consent(s, outbox, a, "sms", True, 0)
        _consent(s, outbox, a, "sms", False, 5)  # STOP later: in force
        _consent(s, outbox, b, "sms", False, 0)
        _consent(s, outbox, b, "sms", True, 9)  # opted in again
        _consent(s, outbox, c, "sms", True, 3)
        _consent(s, outbox, c, "sms", False, 3)  # same instant: the higher id wins
        _consent(s, outbox, d, "email", True, 0, source="store")
        _consent(s, outbox, d, "email", True, 1, purpose=restock_purpose("SKU-1"))
        _consent(s, outbox, sibling, "sms", False, 7)  # the number's other owner said STOP
    with session_scope(outbox.engine) as s:
        customers = s.exec(select(Customer)).all()
        expected = {
            (pk, state): Ledger.load(s, [cu]).state(cu, *state)
            for cu in customers
            if (pk := cu.id) in ids
            for state in STATES
        }
    with session_scope(outbox.engine) as s:
        s.info[GROUP_CACHE] = {}
        group = [cu for cu in s.exec(select(Customer)).all() if cu.id in ids]
        prefetch_consents(s, set(ids), "sms", group)
        statements: list[str] = []

        def count(*args: Any) -> None:
            statements.append(str(args[2]))

        event.listen(outbox.engine, "before_cursor_execute", count)
        try:
            prefetch_consents(s, set(ids), "email", group)  # the same ledger: no query
            got = {
                (cu.id, state): ledger_for(s, cu).state(cu, *state)
                for cu in group
                for state in STATES
            }
        finally:
            event.remove(outbox.engine, "before_cursor_execute", count)
        assert statements == []  # answered from the group cache
    assert got == expected
    assert got[(a, ("sms", "marketing"))].granted is False
    assert got[(b, ("sms", "marketing"))].granted is True
    assert got[(c, ("sms", "marketing"))].granted is False
    assert got[(d, ("email", restock_purpose("SKU-1")))].granted is True


def test_a_ledger_of_one_channel_answers_for_it_as_a_ledger_of_all(outbox: Outbox) -> None:
    """The claim reads one channel's consent (its batch's): every state of that channel is
    what the full ledger says, refusals shared by an address included."""
    a, b = outbox.customer(phone="+15551230001"), outbox.customer(phone="+15551230002")
    sibling = outbox.customer(phone="+15551230001")  # shares a's number
    with session_scope(outbox.engine) as s:
        _consent(s, outbox, a, "sms", True, 0)
        _consent(s, outbox, sibling, "sms", False, 4)  # the number's other owner said STOP
        _consent(s, outbox, a, "email", True, 0, source="store")
        _consent(s, outbox, b, "email", False, 2)
        _consent(s, outbox, b, "sms", True, 1, purpose=restock_purpose("SKU-1"))
    with session_scope(outbox.engine) as s:
        customers = [cu for cu in s.exec(select(Customer)).all() if cu.id in (a, b)]
        full = Ledger.load(s, customers)
        for channel in ("email", "sms"):
            one = Ledger.load(s, customers, {channel})
            for cu in customers:
                for state in STATES:
                    if state[0] == channel:
                        assert one.state(cu, *state) == full.state(cu, *state), (cu.id, state)
        assert full.state(customers[0], "sms", "marketing").granted is False


def test_without_a_group_cache_nothing_is_held(outbox: Outbox) -> None:
    cid = outbox.customer()
    with session_scope(outbox.engine) as s:
        prefetch_consents(s, {cid}, "sms")  # outside a node group: a no-op
        assert GROUP_CACHE not in s.info

"""Issue 15 §1: the send-time guard inside the claim. A row decided when it was queued is
re-checked on current state when it is claimed: consent and suppression as of now (per
address), the offer not expired; a failing row is withdrawn with the reason, never sent;
and the guard costs the same few queries whatever the batch size (set-based)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from journeykit.delivery.claim import claim
from journeykit.delivery.send_guard import _capped, left_visit
from journeykit.delivery.states import may_move
from journeykit.engine.book import parse_source
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Consent, Customer, Enrollment, OutboxMessage
from journeykit.language.journey import Journey
from journeykit.messaging.optout import record_sms_consent
from tests.delivery.conftest import Outbox


def test_stop_after_queueing_withdraws_the_held_sms(outbox: Outbox) -> None:
    row_id = outbox.row("sms", to="+14155550101")
    with session_scope(outbox.engine) as s:
        cid = outbox.get(row_id).customer_id
        record_sms_consent(
            s, customer_id=cid, granted=False, now=outbox.clock.now(), source="sms:STOP"
        )
    outbox.later(minutes=1)
    claimed = claim(outbox.runtime, limit=10)
    row = outbox.get(row_id)
    assert claimed.ids == [] and claimed.withdrawn == 1
    assert row.status == "withdrawn" and row.error and "opted out of sms (sms:STOP)" in row.error


def test_a_refusal_on_another_row_for_the_same_address_withdraws(outbox: Outbox) -> None:
    row_id = outbox.row("email")
    with session_scope(outbox.engine) as s:
        address = s.get(Customer, outbox.get(row_id).customer_id).email  # type: ignore[union-attr]
        guest = Customer(external_id="guest-1", email=address, created_at=outbox.clock.now())
        s.add(guest)
        s.flush()
        s.add(
            Consent(
                customer_id=guest.id,  # type: ignore[arg-type]
                channel="email",
                granted=False,
                source="one-click unsubscribe",
                recorded_at=outbox.clock.now(),
            )
        )
    outbox.later(minutes=1)
    assert claim(outbox.runtime, limit=10).withdrawn == 1
    assert "unsubscribed from email" in (outbox.get(row_id).error or "")


def test_an_expired_offer_is_withdrawn(outbox: Outbox) -> None:
    at = (outbox.clock.now() + timedelta(hours=1)).isoformat()
    row_id = outbox.row("sms", decisions=[{"rule": "offer_expires", "at": at}])
    live_id = outbox.row(
        "sms",
        to="+14155550102",
        decisions=[{"rule": "offer_expires", "at": "2999-01-01T00:00:00+00:00"}],
    )
    outbox.later(hours=2)
    claimed = claim(outbox.runtime, limit=10)
    assert claimed.ids == [live_id] and claimed.withdrawn == 1
    assert (outbox.get(row_id).error or "").startswith("the offer expired")


def test_withdrawn_is_final() -> None:
    assert may_move("queued", "withdrawn")
    assert not any(may_move("withdrawn", s) for s in ("queued", "sending", "sent"))


def _statements(outbox: Outbox, rows: int) -> int:
    for i in range(rows):
        outbox.row("sms", to=f"+1415555{i:04d}")
    outbox.later(minutes=1)
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(outbox.engine, "before_cursor_execute", count)
    try:
        claimed = claim(outbox.runtime, limit=1000)
    finally:
        event.remove(outbox.engine, "before_cursor_execute", count)
    assert len(claimed.ids) == rows
    with Session(outbox.engine) as s:  # leave nothing claimable for the next measure
        assert s.exec(select(Customer)).first() is not None
    return len(seen)


def test_the_guard_is_set_based(outbox: Outbox) -> None:
    few = _statements(outbox, 3)
    many = _statements(outbox, 60)
    assert many == few, (few, many)


def _enrollment(status: str, **kw: Any) -> Enrollment:
    at = pendulum.datetime(2026, 1, 1, tz="UTC")
    return Enrollment(
        id=1, journey="j", version="v", subject_type="order", subject_key="order:1",
        node_id="done", status=status, entered_at=at, updated_at=at + timedelta(seconds=1), **kw,
    )  # fmt: skip


def _queued(created: datetime) -> OutboxMessage:
    return OutboxMessage(
        id=1, key="1:confirmation:email:1", enrollment_id=1, journey="j",
        node_id="confirmation", customer_id=1, channel="email", template="t",
        to_address="a@example.com", due_at=created, created_at=created,
    )  # fmt: skip


def test_running_on_to_the_end_keeps_the_confirmation() -> None:
    at = pendulum.datetime(2026, 1, 1, tz="UTC")
    row = _queued(at)  # queued, then the enrollment completed a moment later in that step
    assert left_visit(row, _enrollment("completed"), {}) is None
    assert left_visit(row, _enrollment("completed"), {1: at - timedelta(hours=1)}) is None


def test_a_choice_or_an_exit_after_queueing_withdraws() -> None:
    at = pendulum.datetime(2026, 1, 1, tz="UTC")
    row = _queued(at)
    chose = left_visit(row, _enrollment("completed"), {1: at + timedelta(hours=1)})
    assert chose is not None and chose.startswith("the enrollment completed since")
    gone = left_visit(row, _enrollment("exited", exit_reason="order.cancelled"), {})
    assert gone == "the enrollment exited since (order.cancelled)"
    again = _enrollment("waiting", visits={"confirmation": 2})
    assert left_visit(row, again, {}) == "the enrollment came back to confirmation since"


CAPPED = """
name: capped
trigger: {event: order.placed}
subject: customer
frequency_cap: {window: 1d, max: 2, on_cap: defer}
nodes:
  - {id: done, type: exit, reason: done}
"""


def _capped_journey(on_cap: str) -> Journey:
    return Journey.model_validate(
        {
            "name": "restock",
            "trigger": {"event": "order.placed"},
            "subject": "customer",
            "frequency_cap": {"window": "1d", "max": 2, "on_cap": on_cap},
            "nodes": [{"id": "done", "type": "exit", "reason": "done"}],
        }
    )


def _two_sent_then_one_queued(outbox: Outbox) -> tuple[int, datetime]:
    """Two marketing messages left 3 h and 1 h ago; a third is claimed now."""
    cid = outbox.customer(phone="+15551230009", consent=True)
    first = outbox.row("sms", to="+15551230009", customer_id=cid)
    outbox.later(hours=2)
    second = outbox.row("sms", to="+15551230009", customer_id=cid)
    outbox.later(hours=1)
    with session_scope(outbox.engine) as s:
        for row_id, ago in ((first, 3), (second, 1)):
            row = s.get(OutboxMessage, row_id)
            assert row is not None
            row.status, row.sent_at = "sent", outbox.clock.now() - timedelta(hours=ago)
            s.add(row)
    return outbox.row("sms", to="+15551230009", customer_id=cid), outbox.clock.now()


@pytest.mark.parametrize("on_cap", ["defer", "skip"])
def test_the_frequency_cap_as_of_now_defers_or_withdraws(outbox: Outbox, on_cap: str) -> None:
    """A row queued under the cap finds it reached when claimed (two messages left since):
    ``defer`` moves it to when the oldest of them leaves the window, ``skip`` withdraws it."""
    row_id, now = _two_sent_then_one_queued(outbox)
    enrollment = _enrollment("active")
    row = outbox.get(row_id)  # detached: the enrollment is a stand-in, never stored
    row.enrollment_id = 1
    with Session(outbox.engine) as s:
        withdrawn, deferred = _capped(
            s, [row], {1: enrollment}, {"v": _capped_journey(on_cap)}, {}, now
        )
    if on_cap == "defer":
        assert withdrawn == {} and deferred[row_id][0] == now - timedelta(hours=3) + timedelta(
            days=1
        )
        assert "frequency cap reached (2 in" in deferred[row_id][1]
    else:
        assert deferred == {} and "frequency cap reached" in withdrawn[row_id]


def test_claim_defers_a_row_over_the_cap_until_it_frees(outbox: Outbox) -> None:
    """Through ``claim``: the deferred row stays queued with its new due time and a note,
    counted as deferred, not sent and not withdrawn."""
    row_id, now = _two_sent_then_one_queued(outbox)
    outbox.runtime.book.add(parse_source(CAPPED), CAPPED)
    with session_scope(outbox.engine) as s:
        version = outbox.runtime.book.snapshot(s, "capped", now)
        enrollment = Enrollment(
            journey="capped", version=version, subject_type="customer", subject_key="customer:9",
            node_id="done", status="waiting", entered_at=now, updated_at=now,
        )  # fmt: skip
        s.add(enrollment)
        s.flush()
        row = s.get(OutboxMessage, row_id)
        assert row is not None
        row.enrollment_id, row.journey = enrollment.id, "capped"
        s.add(row)
    claimed = claim(outbox.runtime, limit=10)
    row = outbox.get(row_id)
    assert claimed.ids == [] and claimed.deferred == 1 and claimed.withdrawn == 0
    assert row.status == "queued" and row.due_at > now
    assert row.decisions[-1]["rule"] == "frequency_cap" and row.decisions[-1]["action"] == "defer"

"""The engine end to end on a real database: enroll, send once, park in the database,
wake on time or on an action, branch, exit — and never send twice."""

from __future__ import annotations

from sqlmodel import select

from journeykit.foundation.models import Enrollment, EnrollmentHistory, OutboxMessage
from tests.engine.conftest import PRODUCT, email, order_placed

FLOW = """
name: care
trigger: {event: order.placed}
subject: order
category: transactional
exit_when: [order.cancelled]
nodes:
  - {id: receipt, type: send, channel: email, template: t/receipt, next: pause}
  - {id: pause, type: wait, duration: 3d, next: ask}
  - {id: ask, type: send, channel: email, template: t/ask, actions: [review, help], next: answer}
  - id: answer
    type: wait_for
    timeout: 7d
    outcomes:
      - {action: review, next: thanks}
      - {action: help, next: ticket}
    on_timeout: big
  - {id: ticket, type: call, action: open_ticket, next: done}
  - {id: thanks, type: send, channel: sms, template: t/thanks, next: done}
  - id: big
    type: branch
    branches:
      - {when: "order.total_cents > 10000", next: done_big}
    otherwise: done
  - {id: done_big, type: exit, reason: big_order_no_answer}
  - {id: done, type: exit}
"""

TEMPLATES = {
    "t/receipt.en.email.html": email(
        "Order {{ order.number }}", "<p>Thanks {{ customer.first_name }}</p>"
    ),
    "t/ask.en.email.html": email(
        "How is it?", '<a href="{{ links.review }}">Review</a> <a href="{{ links.help }}">Help</a>'
    ),
    "t/thanks.en.sms.txt": "Thanks for your review of order {{ order.number }}!",
}


def outbox(h):
    with h.session() as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def enrollment(h):
    with h.session() as s:
        return s.exec(select(Enrollment)).one()


def test_enroll_send_once_then_park_in_the_database(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    routed = h.emit(order_placed()).routed
    assert len(routed.enrolled) == 1
    h.sweep()
    rows = outbox(h)
    assert [r.node_id for r in rows] == ["receipt"]
    assert rows[0].content["subject"] == "Order 1001"
    assert "Thanks Ana" in rows[0].content["html"]
    e = enrollment(h)
    assert (e.node_id, e.status) == ("pause", "waiting")
    assert e.wake_at == h.clock.now() + __import__("datetime").timedelta(days=3)
    # sweeping again before it is due moves nothing and sends nothing
    assert h.later(days=2, hours=23).claimed == 0
    assert len(outbox(h)) == 1


def test_wait_for_wakes_on_action_and_branches(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    h.emit(order_placed())
    h.sweep()
    h.later(days=3)
    assert [r.node_id for r in outbox(h)] == ["receipt", "ask"]
    assert enrollment(h).waiting_for == ["action:review", "action:help"]
    woken = h.act("C-1", "review").routed.woken
    assert len(woken) == 1
    h.sweep()
    assert [r.node_id for r in outbox(h)] == ["receipt", "ask", "thanks"]
    e = enrollment(h)
    assert (e.status, e.exit_reason, e.active_key) == ("completed", "completed", None)


def test_timeout_takes_on_timeout_branch(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    h.emit(order_placed())
    h.sweep()
    h.later(days=3)
    h.later(days=7)
    e = enrollment(h)
    assert (e.status, e.exit_reason) == ("completed", "big_order_no_answer")


def test_duplicate_event_and_action_are_ignored(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    assert not h.emit(order_placed(), key="same").duplicate
    assert h.emit(order_placed(), key="same").duplicate
    h.sweep()
    h.later(days=3)
    assert not h.act("C-1", "help", key="click-1").duplicate
    assert h.act("C-1", "help", key="click-1").duplicate
    h.sweep()
    with h.session() as s:
        actions = s.exec(select(EnrollmentHistory).where(EnrollmentHistory.kind == "action")).all()
    assert len(actions) == 1
    assert len(outbox(h)) == 2


def test_exit_when_event_ends_the_enrollment(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    h.emit(order_placed())
    h.sweep()
    h.emit({"type": "order.cancelled", "order_number": "1001"})
    e = enrollment(h)
    assert (e.status, e.exit_reason) == ("exited", "exit_when:order.cancelled")
    h.later(days=30)
    assert len(outbox(h)) == 1


def test_reentry_after_exit_keeps_one_active_enrollment(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    h.emit(order_placed())
    h.emit({**order_placed(), "customer": order_placed()["customer"]}, key="again")
    with h.session() as s:
        assert len(s.exec(select(Enrollment)).all()) == 1


def test_a_broken_template_fails_that_enrollment_only(harness):
    broken = dict(TEMPLATES)
    broken["t/receipt.en.email.html"] = email("Order {{ order.nope.deeper }}", "x")
    h = harness([FLOW], broken)
    h.emit(PRODUCT)
    h.emit(order_placed("1001"))
    report = h.sweep()
    assert report.errors and "1001" in report.errors[0]
    e = enrollment(h)
    assert e.status == "failed" and e.error
    assert outbox(h) == []


def test_versions_are_snapshotted_and_enrollments_finish_on_theirs(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    h.emit(order_placed())
    h.sweep()
    old_version = enrollment(h).version
    from journeykit.engine.book import JourneyBook

    h.runtime.book = JourneyBook.from_sources(FLOW.replace("duration: 3d", "duration: 1d"))
    assert h.runtime.book.version("care") != old_version
    assert h.later(days=1).claimed == 0  # still on the 3-day version
    assert h.later(days=2).claimed == 1

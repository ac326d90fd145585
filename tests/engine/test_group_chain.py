"""A node group runs on through instant nodes in its own transaction: one group for the
whole path to the first wait, the same history rows as one group per node, one write."""

from __future__ import annotations

from sqlmodel import col, select

from journeykit.foundation.models import Enrollment, EnrollmentHistory, OutboxMessage
from tests.engine.conftest import PRODUCT, email, order_placed

FLOW = """
name: chain
trigger: {event: order.placed}
subject: order
category: transactional
nodes:
  - id: route
    type: branch
    branches:
      - {when: "order.total_cents > 0", next: note}
    otherwise: done
  - {id: note, type: send, channel: email, template: t/note, next: again}
  - id: again
    type: branch
    branches:
      - {when: "enrollment.data.never is defined", next: done}
    otherwise: pause
  - {id: pause, type: wait, duration: 1d, next: done}
  - {id: done, type: exit}
"""

TEMPLATES = {"t/note.en.email.html": email("Order {{ order.number }}", "<p>Hi</p>")}


def test_a_group_passes_instant_nodes_in_one_transaction(harness):
    h = harness([FLOW], TEMPLATES)
    h.emit(PRODUCT)
    h.emit(order_placed())
    report = h.sweep()
    assert report.groups == 1  # route, note, again and pause in one group
    assert [(m.from_node, m.to) for m in report.moves] == [
        ("route", "note"),
        ("note", "again"),
        ("again", "pause"),
        ("pause", "wait"),
    ]
    with h.session() as s:
        e = s.exec(select(Enrollment)).one()
        assert (e.node_id, e.status, e.lease_owner) == ("pause", "waiting", None)
        assert e.visits == {"route": 1, "note": 1, "again": 1, "pause": 1}
        history = s.exec(select(EnrollmentHistory).order_by(col(EnrollmentHistory.id))).all()
        assert [(r.kind, r.from_node, r.to_node) for r in history] == [
            ("enter", None, "route"),
            ("step", "route", "note"),
            ("step", "note", "again"),
            ("step", "again", "pause"),
            ("wait", "pause", "pause"),
        ]
        assert [r.node_id for r in s.exec(select(OutboxMessage)).all()] == ["note"]
    report = h.later(days=1)
    assert [(m.from_node, m.to) for m in report.moves] == [
        ("pause", "done"),
        ("done", "exit:completed"),
    ]
    with h.session() as s:
        e = s.exec(select(Enrollment)).one()
        assert (e.status, e.active_key, e.exit_reason) == ("completed", None, "completed")

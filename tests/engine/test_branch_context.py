"""Branch conditions that read only the enrollment's own names are evaluated without
building the full template context (no database query), with the same values."""

from __future__ import annotations

from sqlmodel import select

from journeykit.engine.nodes.base import ENROLLMENT_NAMES, StepContext
from journeykit.engine.nodes.flow_control import names_in
from journeykit.foundation.models import Enrollment
from tests.engine.conftest import PRODUCT, email, order_placed

FLOW = """
name: pick
trigger: {event: order.placed}
subject: order
category: transactional
settings: {threshold: 3}
nodes:
  - id: cheap
    type: branch
    branches:
      - {when: "enrollment.data.event.order.number == '1001' and settings.threshold > 2", next: big}
    otherwise: done
  - id: big
    type: branch
    branches:
      - {when: "order.total_cents > 10000", next: done_big}
    otherwise: done
  - {id: done_big, type: exit, reason: big}
  - {id: done, type: exit}
"""


def test_names_in_lists_top_level_names() -> None:
    assert names_in("variant.inventory > 0") == {"variant"}
    assert names_in("'sms' in enrollment.data.channels") <= ENROLLMENT_NAMES
    assert not names_in("order.total_cents > journey.settings.x") <= ENROLLMENT_NAMES


def test_enrollment_names_match_the_full_context(harness) -> None:
    h = harness([FLOW], {"t/x.en.email.html": email("x", "x")})
    h.emit(PRODUCT)
    h.emit(order_placed())
    with h.session() as session:
        enrollment = session.exec(select(Enrollment)).one()
        journey = h.runtime.book.get("pick")
        ctx = StepContext(
            session, h.runtime, journey, journey.node("cheap"), enrollment, h.clock.now(), False
        )
        full = ctx.template_context
        assert ctx.enrollment_context == {name: full[name] for name in ENROLLMENT_NAMES}
        assert ctx.context_for(frozenset({"enrollment"})) is ctx.enrollment_context
        assert ctx.context_for(frozenset({"order"})) is full


def test_both_kinds_of_condition_route_the_same_as_before(harness) -> None:
    h = harness([FLOW], {"t/x.en.email.html": email("x", "x")})
    h.emit(PRODUCT)
    h.emit(order_placed())
    report = h.sweep()
    assert [m.to for m in report.moves] == ["big", "done_big", "exit:big"]

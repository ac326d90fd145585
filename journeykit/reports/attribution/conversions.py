"""What counts as a converted enrollment, for the funnel, the A/B verdicts and every page:
the journey got what its messages asked for. An enrollment converted when

- an order is attributed to one of its messages and was not cancelled (orders.py), or
- it ended on a purchase (``exit_when: checkout.completed``: the cart checked out), or
- the customer took one of its choices (a link or numbered reply that woke it: credit,
  express shipping, review, help...)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from journeykit.foundation.models import Enrollment, EnrollmentHistory
from journeykit.reports.attribution.orders import Windows, attribute_orders

PURCHASE_EXITS = ("exit_when:checkout.completed",)


def converted_enrollments(
    session: Session, journey: str, *, windows: Windows | None = None
) -> set[int]:
    """The ids of the journey's enrollments that converted."""
    rows = session.exec(
        select(Enrollment.id, Enrollment.exit_reason).where(Enrollment.journey == journey)
    ).all()
    ids = {int(i) for i, _ in rows if i is not None}
    converted = {int(i) for i, reason in rows if i is not None and reason in PURCHASE_EXITS}
    if ids:
        acted = session.exec(
            select(EnrollmentHistory.enrollment_id)
            .join(Enrollment, col(Enrollment.id) == EnrollmentHistory.enrollment_id)
            .where(EnrollmentHistory.kind == "action", Enrollment.journey == journey)
        ).all()
        converted.update(int(i) for i in acted)
    for order in attribute_orders(session, windows=windows or Windows(), journey=journey):
        if order.kept and order.touch and order.touch.enrollment_id in ids:
            converted.add(int(order.touch.enrollment_id))
    return converted

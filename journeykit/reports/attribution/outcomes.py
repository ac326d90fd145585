"""What three journeys achieve beyond last-touch revenue (docs/reports.md, "Outcomes").

- restock: of the shoppers alerted, who bought the alerted variant within the click window
  after their first alert, and what those lines earned;
- delay apology: of the orders apologised for, how many were kept (not cancelled), how much
  store credit was issued and redeemed;
- backorder: delivered vs cancelled among backorders (an honest range up front), beside the
  same among delayed orders (a promise that slipped): the cancellations honesty avoided."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from journeykit.foundation.models import (
    Enrollment,
    Order,
    OrderLine,
    OutboxMessage,
    StoreCredit,
    Variant,
)
from journeykit.reports.attribution.orders import RECEIVED, Windows
from journeykit.timing.clock import aware


def _add(totals: dict[str, int], currency: str, cents: int) -> None:
    """Money is kept per currency and never summed across currencies."""
    totals[currency] = totals.get(currency, 0) + cents


def _received(session: Session, journey: str) -> list[tuple[OutboxMessage, Enrollment]]:
    return list(
        session.exec(
            select(OutboxMessage, Enrollment)
            .join(Enrollment, col(Enrollment.id) == OutboxMessage.enrollment_id)
            .where(OutboxMessage.journey == journey, col(OutboxMessage.status).in_(RECEIVED))
        ).all()
    )


def _part(subject_key: str, kind: str) -> str | None:
    """``sku:X|customer:Y`` -> ``X`` for kind ``sku``."""
    for part in subject_key.split("|"):
        name, _, value = part.partition(":")
        if name == kind:
            return value
    return None


@dataclass
class RestockOutcome:
    alerted: int = 0  # distinct (shopper, variant) pairs that received a restock message
    bought: int = 0  # of those, bought that variant within the click window of the first
    revenue_cents: dict[str, int] = field(default_factory=dict)  # those lines, per currency

    @property
    def rate(self) -> float:
        return self.bought / self.alerted if self.alerted else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "rate": round(self.rate, 4)}


def restock_outcome(session: Session, *, windows: Windows) -> RestockOutcome:
    first: dict[tuple[int, str], datetime] = {}
    for message, enrollment in _received(session, "restock"):
        sku = _part(enrollment.subject_key, "sku")
        if sku is None:
            continue
        at = aware(message.sent_at or message.due_at)
        key = (message.customer_id, sku)
        first[key] = min(first.get(key, at), at)
    outcome = RestockOutcome(alerted=len(first))
    if not first:
        return outcome
    lines = session.exec(
        select(Order, OrderLine, Variant)
        .join(OrderLine, col(OrderLine.order_id) == Order.id)
        .join(Variant, col(Variant.id) == OrderLine.variant_id)
        .where(col(Variant.sku).in_({s for _, s in first}), Order.status != "cancelled")
    ).all()
    bought: set[tuple[int, str]] = set()
    for order, line, variant in lines:
        key = (order.customer_id, variant.sku)
        alerted_at = first.get(key)
        if alerted_at is None:
            continue
        if not alerted_at <= aware(order.placed_at) <= alerted_at + windows.click:
            continue
        bought.add(key)
        _add(outcome.revenue_cents, order.currency, line.price_cents * line.quantity)
    outcome.bought = len(bought)
    return outcome


@dataclass
class ApologyOutcome:
    apologised: int = 0  # orders that received a delay apology
    kept: int = 0  # of those, not cancelled
    cancelled: int = 0
    credits_issued: int = 0  # store credits for those orders
    credits_redeemed: int = 0  # of those, used
    kept_cents: dict[str, int] = field(default_factory=dict)  # kept orders' totals
    credit_cents: dict[str, int] = field(default_factory=dict)  # credit issued

    @property
    def kept_rate(self) -> float:
        return self.kept / self.apologised if self.apologised else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "kept_rate": round(self.kept_rate, 4)}


def apology_outcome(session: Session) -> ApologyOutcome:
    numbers = {
        number
        for _, enrollment in _received(session, "delay_apology")
        if (number := _part(enrollment.subject_key, "order")) is not None
    }
    outcome = ApologyOutcome(apologised=len(numbers))
    if not numbers:
        return outcome
    orders = [o for o in session.exec(select(Order)).all() if o.number in numbers]
    for order in orders:
        if order.status == "cancelled":
            outcome.cancelled += 1
        else:
            outcome.kept += 1
            _add(outcome.kept_cents, order.currency, order.total_cents)
    ids = {o.id for o in orders}
    credits = session.exec(select(StoreCredit).where(col(StoreCredit.order_id).is_not(None)))
    for credit in (c for c in credits.all() if c.order_id in ids):
        outcome.credits_issued += 1
        outcome.credits_redeemed += credit.used_at is not None
        _add(outcome.credit_cents, credit.currency, credit.amount_cents)
    return outcome


@dataclass
class Cohort:
    name: str
    orders: int = 0
    delivered: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.orders - self.delivered - self.cancelled

    @property
    def cancel_rate(self) -> float:
        return self.cancelled / self.orders if self.orders else 0.0

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "open": self.open, "cancel_rate": round(self.cancel_rate, 4)}


@dataclass
class BackorderOutcome:
    backorders: Cohort = field(default_factory=lambda: Cohort("backorders"))
    delayed: Cohort = field(default_factory=lambda: Cohort("delayed orders"))

    def as_json(self) -> dict[str, Any]:
        return {"backorders": self.backorders.as_json(), "delayed": self.delayed.as_json()}


def backorder_outcome(session: Session) -> BackorderOutcome:
    """Delayed orders (tagged ``delayed``: their promised date slipped) and backorders
    (``is_backorder``, told the honest range up front and never delayed): delivered vs
    cancelled in each."""
    outcome = BackorderOutcome()
    for order in session.exec(select(Order)).all():
        if "delayed" in (order.tags or []):
            cohort = outcome.delayed
        elif order.is_backorder:
            cohort = outcome.backorders
        else:
            continue
        cohort.orders += 1
        cohort.delivered += order.status == "delivered"
        cohort.cancelled += order.status == "cancelled"
    return outcome

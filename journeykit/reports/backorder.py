"""B6: is backorder a good way to sell? Order frequency and lifetime value of customers who
bought on backorder, next to everyone else; orders per week in each cohort (the trend); and
delivered vs cancelled among backorders beside delayed orders (attribution's outcome)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from journeykit.foundation.models import Customer, Order
from journeykit.reports.attribution import BackorderOutcome, backorder_outcome


@dataclass
class Cohort:
    name: str
    customers: int = 0
    orders: int = 0
    revenue_cents: int = 0
    repeat_customers: int = 0  # customers with two orders or more

    @property
    def orders_per_customer(self) -> float:
        return self.orders / self.customers if self.customers else 0.0

    @property
    def lifetime_value_cents(self) -> int:
        return self.revenue_cents // self.customers if self.customers else 0

    @property
    def repeat_rate(self) -> float:
        return self.repeat_customers / self.customers if self.customers else 0.0


@dataclass
class BackorderReport:
    currency: str
    backorder: Cohort = field(default_factory=lambda: Cohort("backorder buyers"))
    others: Cohort = field(default_factory=lambda: Cohort("other customers"))
    backorders: int = 0  # orders placed on backorder
    # orders (not cancelled) per week (Monday, UTC) and cohort: "backorder" / "other"
    per_week: dict[date, dict[str, int]] = field(default_factory=dict)
    outcome: BackorderOutcome = field(default_factory=BackorderOutcome)

    def as_json(self) -> dict[str, Any]:
        def cohort(c: Cohort) -> dict[str, Any]:
            return {
                **asdict(c),
                "orders_per_customer": round(c.orders_per_customer, 3),
                "lifetime_value_cents": c.lifetime_value_cents,
                "repeat_rate": round(c.repeat_rate, 3),
            }

        return {
            "currency": self.currency,
            "backorder_orders": self.backorders,
            "backorder_buyers": cohort(self.backorder),
            "other_customers": cohort(self.others),
            "orders_per_week": {d.isoformat(): n for d, n in sorted(self.per_week.items())},
            "kept_vs_cancelled": self.outcome.as_json(),
        }


def backorder_report(session: Session) -> BackorderReport:
    """Customers with at least one order are split: anyone who ever ordered on backorder
    (or carries the ``backorder`` tag) vs the rest. Cancelled orders count for neither
    frequency nor value."""
    orders = session.exec(select(Order).where(Order.status != "cancelled")).all()
    per_customer: dict[int, list[Order]] = {}
    for order in orders:
        per_customer.setdefault(order.customer_id, []).append(order)
    tagged = {
        c.id
        for c in session.exec(select(Customer)).all()
        if "backorder" in (c.tags or []) and c.id in per_customer
    }
    currencies = sorted({o.currency for o in orders}) or ["USD"]
    report = BackorderReport(currency=", ".join(currencies))
    for customer_id, placed in per_customer.items():
        on_backorder = any(o.is_backorder for o in placed) or customer_id in tagged
        cohort = report.backorder if on_backorder else report.others
        cohort.customers += 1
        cohort.orders += len(placed)
        cohort.revenue_cents += sum(o.total_cents for o in placed)
        cohort.repeat_customers += len(placed) >= 2
        report.backorders += sum(o.is_backorder for o in placed)
        for order in placed:
            day = order.placed_at.date()
            week = report.per_week.setdefault(day - timedelta(days=day.weekday()), {})
            name = "backorder" if on_backorder else "other"
            week[name] = week.get(name, 0) + 1
    report.per_week = dict(sorted(report.per_week.items()))
    report.outcome = backorder_outcome(session)
    return report

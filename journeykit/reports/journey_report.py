"""Everything one journey earned, in one object (docs/reports.md): its funnel, the orders
attributed to its messages (revenue per currency, per node, per A/B arm, per day), its
message rates, its A/B verdicts and, for restock / delay apology / backorder, the outcome
of docs/reports.md "Outcomes"."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from journeykit.foundation.settings import Settings
from journeykit.language.journey import Journey
from journeykit.reports.attribution import (
    ApologyOutcome,
    Attribution,
    BackorderOutcome,
    RestockOutcome,
    Windows,
    apology_outcome,
    arms_of,
    attribute_orders,
    backorder_outcome,
    restock_outcome,
)
from journeykit.reports.funnel import FunnelReport, funnel_report
from journeykit.reports.rates import (
    Rates,
    by_arm,
    by_day,
    by_node,
    by_template,
    message_facts,
    rates_by,
)
from journeykit.reports.verdicts import Verdict, journey_verdicts

Outcome = RestockOutcome | ApologyOutcome | BackorderOutcome


@dataclass
class Money:
    """Orders and their amounts per currency (never summed across currencies)."""

    orders: int = 0
    cents: dict[str, int] = field(default_factory=dict)

    def add(self, order: Attribution) -> None:
        self.orders += 1
        self.cents[order.currency] = self.cents.get(order.currency, 0) + order.amount_cents


@dataclass
class JourneyReport:
    journey: str
    windows: Windows
    funnel: FunnelReport
    attributed: list[Attribution]  # every order attributed to this journey, cancelled too
    rates: Rates
    node_rates: dict[Any, Rates]
    template_rates: dict[Any, Rates]
    arm_rates: dict[Any, Rates]
    day_rates: dict[Any, Rates]
    verdicts: list[Verdict]
    outcome: Outcome | None

    @property
    def earned(self) -> Money:
        """Attributed orders not cancelled."""
        money = Money()
        for order in self.attributed:
            if order.kept:
                money.add(order)
        return money

    def earned_by(self, key: str) -> dict[str, Money]:
        """Kept attributed orders per ``node`` / ``template`` / ``arm`` (split=arm)."""
        groups: dict[str, Money] = {}
        for order in self.attributed:
            if not order.kept or order.touch is None:
                continue
            touch = order.touch
            names = {
                "node": [touch.node],
                "template": [touch.template],
                "arm": [f"{s}={a}" for s, a in arms_of(touch.variant).items()],
            }[key]
            for name in names:
                groups.setdefault(name, Money()).add(order)
        return dict(sorted(groups.items()))

    def days(self) -> list[date]:
        """Every day from the first send or order to the last (empty days included)."""
        seen = [*self.day_rates, *(o.placed_at.date() for o in self.attributed)]
        if not seen:
            return []
        first, last = min(seen), max(seen)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def earned_per_day(self) -> dict[date, Money]:
        per_day = {day: Money() for day in self.days()}
        for order in self.attributed:
            if order.kept:
                per_day[order.placed_at.date()].add(order)
        return per_day

    def as_json(self) -> dict[str, Any]:
        earned = self.earned
        return {
            "journey": self.journey,
            "windows_seconds": {
                "click": int(self.windows.click.total_seconds()),
                "receive": int(self.windows.receive.total_seconds()),
            },
            "attributed": {
                "orders": earned.orders,
                "revenue_cents": earned.cents,
                "cancelled_orders": sum(not o.kept for o in self.attributed),
                "by_node": {k: _money(v) for k, v in self.earned_by("node").items()},
                "by_arm": {k: _money(v) for k, v in self.earned_by("arm").items()},
                "per_day": {
                    d.isoformat(): _money(m) for d, m in self.earned_per_day().items() if m.orders
                },
                "orders_list": [
                    {
                        "number": o.number,
                        "amount_cents": o.amount_cents,
                        "currency": o.currency,
                        "status": o.status,
                        "rule": o.touch.rule if o.touch else None,
                        "node": o.touch.node if o.touch else None,
                        "template": o.touch.template if o.touch else None,
                        "variant": o.touch.variant if o.touch else None,
                        "message": o.touch.outbox_id if o.touch else None,
                    }
                    for o in self.attributed
                ],
            },
            "rates": self.rates.as_json(),
            "rates_by_node": {k[1]: v.as_json() for k, v in self.node_rates.items()},
            "rates_by_template": {
                f"{k[1]} ({k[2]})": v.as_json() for k, v in self.template_rates.items()
            },
            "rates_by_arm": {f"{k[1]}={k[2]}": v.as_json() for k, v in self.arm_rates.items()},
            "rates_by_day": {k.isoformat(): v.as_json() for k, v in self.day_rates.items()},
            "ab_verdicts": [v.as_json() for v in self.verdicts],
            "outcome": self.outcome.as_json() if self.outcome else None,
            "funnel": self.funnel.as_json(),
        }


def _money(money: Money) -> dict[str, Any]:
    return {"orders": money.orders, "revenue_cents": money.cents}


def journey_outcome(session: Session, name: str, windows: Windows) -> Outcome | None:
    if name == "restock":
        return restock_outcome(session, windows=windows)
    if name == "delay_apology":
        return apology_outcome(session)
    if name == "backorder":
        return backorder_outcome(session)
    return None


def journey_report(
    session: Session, name: str, journey: Journey | None, *, settings: Settings
) -> JourneyReport:
    windows = Windows.from_settings(settings)
    facts = message_facts(session, journey=name)
    total = rates_by(facts, lambda f: ["all"]).get("all", Rates())
    return JourneyReport(
        journey=name,
        windows=windows,
        funnel=funnel_report(session, name, journey),
        attributed=attribute_orders(session, windows=windows, journey=name),
        rates=total,
        node_rates=rates_by(facts, by_node),
        template_rates=rates_by(facts, by_template),
        arm_rates=rates_by(facts, by_arm),
        day_rates=rates_by(facts, by_day),
        verdicts=journey_verdicts(
            session,
            name,
            windows=windows,
            confidence=settings.reports.ab_confidence,
            power=settings.reports.ab_power,
        ),
        outcome=journey_outcome(session, name, windows),
    )

"""A/B verdicts per split node (docs/reports.md, "A/B verdicts"): each arm's conversion with
a Wilson confidence interval, Fisher's exact test of the best arm against each other arm
(Holm-corrected when there are more than two), and, until there is a winner, how many more
customers per arm a test of this power needs. The statistics are scipy's and statsmodels';
nothing here is a hand-rolled formula."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import fisher_exact
from sqlmodel import Session, select
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_confint, proportion_effectsize

from journeykit.foundation.models import Enrollment
from journeykit.reports.attribution import Windows, converted_enrollments

SMALLEST_LIFT = 0.2  # a test is sized to see at least a 20% relative lift


@dataclass
class Arm:
    name: str
    customers: int
    converted: int
    low: float = 0.0  # confidence interval of the conversion rate
    high: float = 0.0

    @property
    def rate(self) -> float:
        return self.converted / self.customers if self.customers else 0.0


@dataclass
class Verdict:
    split: str
    confidence: float
    arms: list[Arm] = field(default_factory=list)
    winner: str | None = None
    p_value: float | None = None  # best arm vs the runner-up (Holm-adjusted)
    needed_per_arm: int | None = None  # customers per arm this test needs
    more_per_arm: int | None = None  # of which still missing
    can_stop: bool = False
    text: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "confidence": self.confidence,
            "arms": [
                {
                    "name": a.name,
                    "customers": a.customers,
                    "converted": a.converted,
                    "rate": round(a.rate, 4),
                    "interval": [round(a.low, 4), round(a.high, 4)],
                }
                for a in self.arms
            ],
            "winner": self.winner,
            "p_value": None if self.p_value is None else round(self.p_value, 6),
            "needed_per_arm": self.needed_per_arm,
            "more_per_arm": self.more_per_arm,
            "can_stop": self.can_stop,
            "verdict": self.text,
        }


def _needed(best: Arm, other: Arm, *, alpha: float, power: float) -> int | None:
    """Customers per arm for a two-sided test at ``alpha`` with ``power`` to tell these
    rates apart, or a smallest lift of SMALLEST_LIFT when the rates seen are closer than
    that. None: no conversions yet."""
    low = other.rate
    high = max(best.rate, min(0.999, low * (1 + SMALLEST_LIFT)))
    if high == low:
        return None
    effect = abs(float(proportion_effectsize(high, low)))
    n = NormalIndPower().solve_power(effect_size=effect, alpha=alpha, power=power, ratio=1.0)
    return math.ceil(float(n))


def verdict(
    split: str, arms: list[tuple[str, int, int]], *, confidence: float, power: float
) -> Verdict:
    """``arms``: (name, customers, converted) per arm."""
    alpha = 1 - confidence
    result = Verdict(split=split, confidence=confidence)
    for name, customers, converted in arms:
        arm = Arm(name, customers, converted)
        if customers:
            low, high = proportion_confint(converted, customers, alpha=alpha, method="wilson")
            arm.low, arm.high = float(low), float(high)
        result.arms.append(arm)
    if len(result.arms) < 2 or any(a.customers == 0 for a in result.arms):
        empty = ", ".join(a.name for a in result.arms if a.customers == 0) or "a second arm"
        result.text = f"not enough data yet: no customers in {empty}"
        return result
    ranked = sorted(result.arms, key=lambda a: (-a.rate, a.name))
    best, others = ranked[0], ranked[1:]
    p_values = [
        float(
            fisher_exact(
                [
                    [best.converted, best.customers - best.converted],
                    [o.converted, o.customers - o.converted],
                ]
            ).pvalue
        )
        for o in others
    ]
    if len(p_values) > 1:  # Holm over the comparisons (one comparison: nothing to adjust)
        rejected, adjusted, _, _ = multipletests(p_values, alpha=alpha, method="holm")
    else:
        rejected, adjusted = [p_values[0] < alpha], p_values
    result.p_value = float(adjusted[0])
    needed = _needed(best, others[0], alpha=alpha / len(others), power=power)
    result.needed_per_arm = needed
    smallest = min(a.customers for a in result.arms)
    result.more_per_arm = None if needed is None else max(0, needed - smallest)
    percent = f"{confidence:.0%}"
    if all(rejected):
        result.winner = best.name
        result.can_stop = True
        result.text = f"{best.name} converts better, {percent} confidence: the test can stop"
    elif needed is not None and smallest >= needed:
        result.can_stop = True
        result.text = (
            f"no arm converts better at {percent} confidence after {smallest} customers per "
            "arm: the test can stop (keep the cheaper arm)"
        )
    elif needed is None:
        result.text = "not enough data yet: no conversions in any arm"
    else:
        result.text = f"not enough data yet: ~{result.more_per_arm} more customers per arm"
    return result


def journey_verdicts(
    session: Session,
    journey: str,
    *,
    windows: Windows,
    confidence: float,
    power: float,
) -> list[Verdict]:
    """One verdict per split node of the journey; customers per arm are its enrollments
    that reached the split, converted ones by the one definition (attribution)."""
    converted = converted_enrollments(session, journey, windows=windows)
    rows = session.exec(
        select(Enrollment.id, Enrollment.data).where(Enrollment.journey == journey)
    ).all()
    counts: dict[str, dict[str, list[int]]] = {}
    for enrollment_id, data in rows:
        for split, arm in ((data or {}).get("variants") or {}).items():
            tally = counts.setdefault(split, {}).setdefault(arm, [0, 0])
            tally[0] += 1
            tally[1] += enrollment_id in converted
    return [
        verdict(
            split,
            [(arm, n, c) for arm, (n, c) in sorted(arms.items())],
            confidence=confidence,
            power=power,
        )
        for split, arms in sorted(counts.items())
    ]

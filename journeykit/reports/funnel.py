"""C2/C3: what a journey does, node by node (entered, waited, sent, clicked, acted,
converted), and how each A/B variant converts. Converted: the one definition of
``reports.attribution.conversions`` (an attributed order, a purchase exit, or a choice)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from journeykit.foundation.models import Enrollment, EnrollmentHistory, MessageEvent, OutboxMessage
from journeykit.foundation.settings import get_settings
from journeykit.language.journey import Journey
from journeykit.reports.attribution import Windows, converted_enrollments


@dataclass
class NodeRow:
    node: str
    type: str
    entered: int = 0
    waited: int = 0
    sent: int = 0
    suppressed: int = 0
    withdrawn: int = 0  # no longer true when it would have left (the send-time guard)
    clicked: int = 0
    acted: int = 0
    converted: int = 0


@dataclass
class VariantRow:
    split: str
    variant: str
    enrollments: int = 0
    sent: int = 0
    converted: int = 0

    @property
    def conversion_rate(self) -> float:
        return self.converted / self.enrollments if self.enrollments else 0.0


@dataclass
class FunnelReport:
    journey: str
    enrollments: int = 0
    converted: int = 0
    nodes: list[NodeRow] = field(default_factory=list)
    variants: list[VariantRow] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "enrollments": self.enrollments,
            "converted": self.converted,
            "nodes": [asdict(n) for n in self.nodes],
            "variants": [
                {**asdict(v), "conversion_rate": round(v.conversion_rate, 3)} for v in self.variants
            ],
        }


def funnel_report(session: Session, name: str, journey: Journey | None = None) -> FunnelReport:
    enrollments = session.exec(select(Enrollment).where(Enrollment.journey == name)).all()
    ids = [e.id for e in enrollments]
    history = session.exec(
        select(EnrollmentHistory).where(col(EnrollmentHistory.enrollment_id).in_(ids))
    ).all()
    windows = Windows.from_settings(get_settings())
    converted: set[int | None] = set(converted_enrollments(session, name, windows=windows))
    order = [n.id for n in journey.nodes] if journey else []
    types = {n.id: n.type for n in journey.nodes} if journey else {}
    rows: dict[str, NodeRow] = {n: NodeRow(n, types[n]) for n in order}
    seen: dict[tuple[str, str], set[int]] = {}

    def mark(metric: str, node: str | None, enrollment_id: int) -> None:
        if node is None:
            return
        rows.setdefault(node, NodeRow(node, types.get(node, "?")))
        seen.setdefault((metric, node), set()).add(enrollment_id)

    for h in history:
        if h.kind in ("enter", "step"):
            mark("entered", h.to_node, h.enrollment_id)
        elif h.kind == "wait":
            mark("waited", h.from_node, h.enrollment_id)
        elif h.kind == "action":
            mark("acted", h.from_node, h.enrollment_id)
    for (metric, node), members in seen.items():
        setattr(rows[node], metric, len(members))
        if metric == "entered":
            rows[node].converted = len(members & converted)
    outbox = session.exec(select(OutboxMessage).where(OutboxMessage.journey == name)).all()
    clicked = set(
        session.exec(
            select(MessageEvent.outbox_id).where(
                MessageEvent.kind == "click",
                col(MessageEvent.outbox_id).in_([m.id for m in outbox]),
            )
        ).all()
    )
    for message in outbox:
        row = rows.setdefault(message.node_id, NodeRow(message.node_id, "send"))
        if message.status == "suppressed":
            row.suppressed += 1
        elif message.status == "withdrawn":
            row.withdrawn += 1
        else:
            row.sent += 1
            row.clicked += message.id in clicked
    report = FunnelReport(name, len(enrollments), len(converted))
    position = {node: i for i, node in enumerate(order)}
    report.nodes = sorted(rows.values(), key=lambda r: (position.get(r.node, len(order)), r.node))
    report.variants = _variants(enrollments, outbox, converted)
    return report


def _variants(enrollments: Any, outbox: Any, converted: set[int | None]) -> list[VariantRow]:
    rows: dict[tuple[str, str], VariantRow] = {}
    for enrollment in enrollments:
        for split, variant in (enrollment.data.get("variants") or {}).items():
            row = rows.setdefault((split, variant), VariantRow(split, variant))
            row.enrollments += 1
            row.converted += enrollment.id in converted
    for message in outbox:
        if message.variant and message.status not in ("suppressed", "withdrawn"):
            for part in message.variant.split(","):
                split, _, variant = part.partition("=")
                if (split, variant) in rows:
                    rows[(split, variant)].sent += 1
    return sorted(rows.values(), key=lambda r: (r.split, r.variant))

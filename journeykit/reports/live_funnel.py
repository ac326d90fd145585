"""A journey's live funnel, read from our tables: how many entered, where the live ones wait
(per node), how many messages went out (per channel), how many converted (the one definition of
``reports.attribution.conversions``), how many
finished or failed. Published as a keyed Prefect artifact and shown by ``journeys status``."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from journeykit.foundation.models import Enrollment, OutboxMessage
from journeykit.foundation.settings import get_settings
from journeykit.reports.attribution import Windows, converted_enrollments

LIVE = ("active", "waiting")
SENT = ("sent", "delivered")


@dataclass
class Funnel:
    journey: str
    entered: int = 0
    at_node: dict[str, int] = field(default_factory=dict)  # live enrollments per node
    sent: dict[str, int] = field(default_factory=dict)  # messages sent per channel
    withdrawn: dict[str, int] = field(default_factory=dict)  # no longer true when claimed
    converted: int = 0
    finished: dict[str, int] = field(default_factory=dict)  # completed / exited / failed

    def rows(self) -> list[dict[str, object]]:
        """One row per stage, in funnel order (what the table artifact shows)."""
        rows: list[dict[str, object]] = [{"stage": "entered", "where": "", "count": self.entered}]
        rows += [{"stage": "waiting", "where": n, "count": c} for n, c in self.at_node.items()]
        rows += [{"stage": "sent", "where": ch, "count": c} for ch, c in sorted(self.sent.items())]
        rows += [
            {"stage": "withdrawn", "where": ch, "count": c}
            for ch, c in sorted(self.withdrawn.items())
        ]
        rows.append({"stage": "converted", "where": "", "count": self.converted})
        rows += [
            {"stage": status, "where": "", "count": c}
            for status, c in sorted(self.finished.items())
        ]
        return rows


def read_funnel(engine: Engine, journey: str, node_order: list[str] | None = None) -> Funnel:
    funnel = Funnel(journey)
    with Session(engine) as session:
        by_status = session.exec(
            select(Enrollment.status, Enrollment.node_id, func.count())
            .where(Enrollment.journey == journey)
            .group_by(col(Enrollment.status), col(Enrollment.node_id))
        ).all()
        sent = session.exec(
            select(OutboxMessage.channel, func.count())
            .where(OutboxMessage.journey == journey, col(OutboxMessage.status).in_(SENT))
            .group_by(col(OutboxMessage.channel))
        ).all()
        withdrawn = session.exec(
            select(OutboxMessage.channel, func.count())
            .where(OutboxMessage.journey == journey, OutboxMessage.status == "withdrawn")
            .group_by(col(OutboxMessage.channel))
        ).all()
        windows = Windows.from_settings(get_settings())
        funnel.converted = len(converted_enrollments(session, journey, windows=windows))
    at_node: dict[str, int] = {}
    for status, node, count in by_status:
        funnel.entered += count
        if status in LIVE:
            at_node[node] = at_node.get(node, 0) + count
        else:
            funnel.finished[status] = funnel.finished.get(status, 0) + count
    order = {node: i for i, node in enumerate(node_order or [])}
    funnel.at_node = dict(sorted(at_node.items(), key=lambda kv: (order.get(kv[0], 1e9), kv[0])))
    funnel.sent = {channel: int(count) for channel, count in sent}
    funnel.withdrawn = {channel: int(count) for channel, count in withdrawn}
    return funnel

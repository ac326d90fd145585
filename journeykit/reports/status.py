"""What ``journeys status`` shows: enrollments per journey, node and status with the next
due time, the outbox backlog per channel, provider errors in the last hour, and the messages
the send-time guard withdrew, by reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, func, select

from journeykit.foundation.models import Enrollment, OutboxMessage
from journeykit.timing.clock import aware

BACKLOG = ("queued", "sending")


@dataclass
class NodeStatus:
    journey: str
    node: str
    counts: dict[str, int] = field(default_factory=dict)  # status -> enrollments
    next_due: datetime | None = None  # earliest wake time of the live ones


@dataclass
class Backlog:
    channel: str
    status: str
    count: int
    oldest_due: datetime | None
    overdue: int  # due before now


@dataclass
class ProviderError:
    channel: str
    code: str
    count: int
    example: str


@dataclass
class Withdrawn:
    """Messages the send-time guard withdrew (no longer true when claimed), by reason."""

    journey: str
    node: str
    reason: str
    count: int


@dataclass
class Status:
    nodes: list[NodeStatus]
    backlog: list[Backlog]
    errors: list[ProviderError]
    withdrawn: list[Withdrawn] = field(default_factory=list)


def read_status(engine: Engine, now: datetime, journey: str | None = None) -> Status:
    with Session(engine) as session:
        query = select_columns(
            col(Enrollment.journey),
            col(Enrollment.node_id),
            col(Enrollment.status),
            func.count(),
            func.min(Enrollment.wake_at),
        ).group_by(col(Enrollment.journey), col(Enrollment.node_id), col(Enrollment.status))
        if journey:
            query = query.where(col(Enrollment.journey) == journey)
        nodes: dict[tuple[str, str], NodeStatus] = {}
        for name, node, status, count, wake in session.execute(query).all():
            row = nodes.setdefault((name, node), NodeStatus(name, node))
            row.counts[status] = count
            if status in ("active", "waiting") and wake is not None:
                row.next_due = wake if row.next_due is None else min(row.next_due, wake)
        outbox = select(OutboxMessage).where(col(OutboxMessage.status).in_(BACKLOG))
        errors = select(OutboxMessage).where(
            col(OutboxMessage.error_code).is_not(None) | col(OutboxMessage.error).is_not(None),
            col(OutboxMessage.last_attempt_at) >= now - timedelta(hours=1),
        )
        if journey:
            outbox = outbox.where(OutboxMessage.journey == journey)
            errors = errors.where(OutboxMessage.journey == journey)
        backlog = _backlog(list(session.exec(outbox).all()), now)
        failures = _errors(list(session.exec(errors).all()))
        gone = select_columns(
            col(OutboxMessage.journey),
            col(OutboxMessage.node_id),
            col(OutboxMessage.error),
            func.count(),
        ).where(col(OutboxMessage.status) == "withdrawn")
        if journey:
            gone = gone.where(col(OutboxMessage.journey) == journey)
        gone = gone.group_by(
            col(OutboxMessage.journey), col(OutboxMessage.node_id), col(OutboxMessage.error)
        )
        withdrawn = [Withdrawn(j, n, r or "", c) for j, n, r, c in session.execute(gone).all()]
    ordered = sorted(nodes.values(), key=lambda n: (n.journey, n.node))
    return Status(ordered, backlog, failures, sorted(withdrawn, key=lambda w: (w.journey, w.node)))


def _backlog(rows: list[OutboxMessage], now: datetime) -> list[Backlog]:
    groups: dict[tuple[str, str], list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault((row.channel, row.status), []).append(row)
    return [
        Backlog(
            channel,
            status,
            len(items),
            min(aware(r.due_at) for r in items),
            sum(1 for r in items if aware(r.due_at) <= now),
        )
        for (channel, status), items in sorted(groups.items())
    ]


def _errors(rows: list[OutboxMessage]) -> list[ProviderError]:
    groups: dict[tuple[str, str], list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault((row.channel, row.error_code or "no code"), []).append(row)
    return [
        ProviderError(channel, code, len(items), (items[-1].error or "")[:120])
        for (channel, code), items in sorted(groups.items())
    ]

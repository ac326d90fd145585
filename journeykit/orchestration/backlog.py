"""The backlog alert: due work left waiting longer than it should. Every run measures, before
it claims, per journey, the oldest overdue work (an enrollment due and not leased, a queued
message due), and when it is older than ``schedule.backlog_alert_seconds`` emits the Prefect
event
``journeykit.backlog.late`` (resource ``journeykit.backlog.<journey>``; payload: the age,
the counts, the journey). The automation ``journeykit · due work late`` (automations.py)
reacts to it; the event names the run that saw it, so the alert links to that run.

Late work means a wake-up was missed (no worker, a paused deployment, a worker killed
mid-run): the safety sweep takes it, and the alert says it happened."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.events import emit_event
from sqlalchemy import Engine, Select, func, literal, union_all
from sqlmodel import Session, col, select

from journeykit.engine.advance import claimable
from journeykit.engine.runtime import Runtime
from journeykit.foundation.models import Enrollment, OutboxMessage

log = logging.getLogger(__name__)
EVENT = "journeykit.backlog.late"
RESOURCE = "journeykit.backlog"


@dataclass(frozen=True)
class LateWork:
    """One journey's overdue work, measured at ``now``."""

    journey: str
    oldest: datetime
    now: datetime
    enrollments: int  # overdue, not leased
    messages: int  # queued, due

    @property
    def age(self) -> timedelta:
        return self.now - self.oldest

    def payload(self) -> dict[str, object]:
        return {
            "journey": self.journey,
            "age_seconds": int(self.age.total_seconds()),
            "age_minutes": round(self.age.total_seconds() / 60, 1),
            "oldest_due": self.oldest.isoformat(),
            "enrollments": self.enrollments,
            "messages": self.messages,
        }


def overdue_work(
    engine: Engine, now: datetime, journeys: Iterable[str] | None = None
) -> list[LateWork]:
    """Each journey's overdue work (one query over both tables), by journey."""
    enrollments: Select[Any] = select(
        col(Enrollment.journey).label("journey"),
        col(Enrollment.wake_at).label("due"),
        literal("enrollment").label("kind"),
    ).where(*claimable(now))
    messages: Select[Any] = select(
        col(OutboxMessage.journey).label("journey"),
        col(OutboxMessage.due_at).label("due"),
        literal("message").label("kind"),
    ).where(col(OutboxMessage.status) == "queued", col(OutboxMessage.due_at) <= now)
    if journeys is not None:
        names = sorted(set(journeys))
        enrollments = enrollments.where(col(Enrollment.journey).in_(names))
        messages = messages.where(col(OutboxMessage.journey).in_(names))
    due = union_all(enrollments, messages).subquery("overdue")
    query = select(due.c.journey, due.c.kind, func.min(due.c.due), func.count()).group_by(
        due.c.journey, due.c.kind
    )
    found: dict[str, dict[str, tuple[datetime, int]]] = {}
    with Session(engine) as session:
        for journey, kind, oldest, count in session.execute(query):
            found.setdefault(journey, {})[kind] = (_utc(oldest), int(count))
    late = []
    for journey, kinds in sorted(found.items()):
        oldest = min(when for when, _ in kinds.values())
        late.append(
            LateWork(
                journey,
                oldest,
                now,
                enrollments=kinds.get("enrollment", (now, 0))[1],
                messages=kinds.get("message", (now, 0))[1],
            )
        )
    return late


def late_work(
    engine: Engine, now: datetime, older_than: timedelta, journeys: Iterable[str] | None = None
) -> list[LateWork]:
    """The journeys whose oldest overdue work is older than ``older_than``."""
    return [w for w in overdue_work(engine, now, journeys) if w.age > older_than]


def emit_late(late: Iterable[LateWork]) -> int:
    """One ``journeykit.backlog.late`` event per late journey (in a flow run, Prefect relates
    it to the run, its flow and deployment); the number emitted."""
    emitted = 0
    for work in late:
        emit_event(
            event=EVENT,
            resource={
                "prefect.resource.id": f"{RESOURCE}.{work.journey}",
                "prefect.resource.name": f"{work.journey} backlog",
            },
            payload=work.payload(),
        )
        emitted += 1
    return emitted


def report_late_work(runtime: Runtime) -> list[LateWork]:
    """What a batch does before it claims: measure every journey's overdue work and emit
    ``journeykit.backlog.late`` for each one older than ``schedule.backlog_alert_seconds``
    (before the claim, so work picked up late, after a worker outage, is reported too). An
    alert that cannot be measured never fails the batch: it is logged."""
    older_than = timedelta(seconds=runtime.settings.schedule.backlog_alert_seconds)
    try:
        late = late_work(runtime.engine, runtime.clock.now(), older_than)
        emit_late(late)
    except Exception as exc:  # the batch's work matters more than its alert
        log.warning("could not measure the backlog: %s", exc)
        return []
    return late


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):  # SQLite's MIN over a union answers the stored text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

"""Route a recorded event or action to journeys: exit (``exit_when``), wake (``wait_for``
outcomes) and enroll (triggers, with the journey's re-entry rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from journeykit.engine.book import JourneyBook
from journeykit.engine.expressions import holds
from journeykit.engine.registry import get_audience
from journeykit.engine.transitions import exit_enrollment, record
from journeykit.models import CustomerAction, DomainEvent, Enrollment
from journeykit.spec.journey import Journey

LIVE = ("active", "waiting")


@dataclass
class RouteResult:
    enrolled: list[int] = field(default_factory=list)
    woken: list[int] = field(default_factory=list)
    exited: list[int] = field(default_factory=list)

    @property
    def touched(self) -> list[int]:
        return [*self.enrolled, *self.woken]


@dataclass(frozen=True)
class AudienceMember:
    customer_id: int
    subject_key: str
    data: dict[str, Any]


def matches(enrollment: Enrollment, keys: set[str]) -> bool:
    """An event is about an enrollment when every part of its subject key is among the
    event's keys (``sku:X|customer:C`` needs both)."""
    return all(part in keys for part in enrollment.subject_key.split("|"))


def route_event(
    session: Session,
    *,
    book: JourneyBook,
    now: datetime,
    event: DomainEvent,
    exclude: int | None = None,
) -> RouteResult:
    result = RouteResult()
    keys = set(event.data.get("_keys", []))
    signal = f"event:{event.type}"
    for enrollment in _live_enrollments(session, keys, event.customer_id):
        if enrollment.id == exclude or not matches(enrollment, keys):
            continue
        journey = book.at_version(session, enrollment.version)
        if event.type in journey.exit_when:
            exit_enrollment(session, enrollment, now, reason=f"exit_when:{event.type}")
            result.exited.append(enrollment.id)  # type: ignore[arg-type]
        elif enrollment.status == "waiting" and signal in enrollment.waiting_for:
            wake(session, enrollment, now, signal, event.data)
            result.woken.append(enrollment.id)  # type: ignore[arg-type]
    for journey in book.journeys():
        if journey.trigger.event == event.type:
            result.enrolled += _trigger(session, book, journey, now, event)
    return result


def route_action(session: Session, *, now: datetime, action: CustomerAction) -> RouteResult:
    """Wake the enrollment the action names, or every enrollment of the customer waiting
    for it (e.g. a click recorded from a provider event)."""
    result = RouteResult()
    signal = f"action:{action.name}"
    query = select(Enrollment).where(Enrollment.status == "waiting")
    if action.enrollment_id is not None:
        query = query.where(Enrollment.id == action.enrollment_id)
    else:
        query = query.where(Enrollment.customer_id == action.customer_id)
    for enrollment in session.exec(query).all():
        if signal in enrollment.waiting_for:
            wake(session, enrollment, now, signal, {"action": action.name, **action.data})
            result.woken.append(enrollment.id)  # type: ignore[arg-type]
    return result


def wake(
    session: Session, enrollment: Enrollment, now: datetime, signal: str, data: dict[str, Any]
) -> None:
    enrollment.data = {**enrollment.data, "_signal": signal, "last_event": data}
    enrollment.wake_at = now
    enrollment.updated_at = now
    session.add(enrollment)
    kind = "action" if signal.startswith("action:") else "wake"
    record(session, enrollment, now, kind, enrollment.node_id, None, {"signal": signal})


def enroll(
    session: Session,
    *,
    book: JourneyBook,
    journey: Journey,
    now: datetime,
    subject_key: str,
    customer_id: int | None,
    data: dict[str, Any],
) -> Enrollment | None:
    """Start ``journey`` for a subject, honouring the re-entry rule; None when it may not."""
    same = select(Enrollment.id).where(
        Enrollment.journey == journey.name, Enrollment.subject_key == subject_key
    )
    if journey.reentry == "once" and session.exec(same).first() is not None:
        return None
    active_key = f"{journey.name}:{subject_key}" if journey.reentry != "always" else None
    if (
        active_key
        and session.exec(select(Enrollment.id).where(Enrollment.active_key == active_key)).first()
    ):
        return None
    enrollment = Enrollment(
        journey=journey.name,
        version=book.snapshot(session, journey.name, now),
        subject_type=journey.subject,
        subject_key=subject_key,
        customer_id=customer_id,
        active_key=active_key,
        node_id=journey.start_id,
        status="active",
        wake_at=now,
        data=data,
        visits={journey.start_id: 1},
        entered_at=now,
        updated_at=now,
    )
    session.add(enrollment)
    session.flush()
    record(session, enrollment, now, "enter", None, journey.start_id, {"subject": subject_key})
    return enrollment


def _trigger(
    session: Session, book: JourneyBook, journey: Journey, now: datetime, event: DomainEvent
) -> list[int]:
    context = {"event": event.data, "settings": journey.settings}
    if journey.trigger.filter and not holds(journey.trigger.filter, context):
        return []
    base = {"event": event.data}
    if journey.trigger.audience:
        members = get_audience(journey.trigger.audience)(
            session=session, journey=journey, event=event, now=now
        )
    else:
        prefix = f"{journey.subject}:"
        subject = next((k for k in event.data.get("_keys", []) if k.startswith(prefix)), None)
        if subject is None:
            return []
        members = [AudienceMember(event.customer_id, subject, {})]  # type: ignore[arg-type]
    enrolled = []
    for member in members:
        enrollment = enroll(
            session,
            book=book,
            journey=journey,
            now=now,
            subject_key=member.subject_key,
            customer_id=member.customer_id,
            data={**base, **member.data},
        )
        if enrollment is not None:
            enrolled.append(enrollment.id)
    return enrolled  # type: ignore[return-value]


def _live_enrollments(
    session: Session, keys: set[str], customer_id: int | None
) -> list[Enrollment]:
    conditions: list[Any] = [col(Enrollment.subject_key).in_(keys)] if keys else []
    if customer_id is not None:
        conditions.append(col(Enrollment.customer_id) == customer_id)
    if not conditions:
        return []
    query = select(Enrollment).where(col(Enrollment.status).in_(LIVE), or_(*conditions))
    return list(session.exec(query).all())

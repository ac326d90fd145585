"""Route a recorded event or action to journeys: exit (``exit_when``), wake (``wait_for``
outcomes) and enroll (triggers, with the journey's re-entry rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from journeykit.engine.book import JourneyBook
from journeykit.engine.registry import Registry
from journeykit.engine.transitions import exit_enrollment, record
from journeykit.foundation.models import CustomerAction, DomainEvent, Enrollment
from journeykit.language.journey import Journey
from journeykit.templating.expressions import holds

LIVE = ("active", "waiting")
IN_CHUNK = 500  # values per IN (...) list


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
    registry: Registry | None = None,
) -> RouteResult:
    """Exit, wake and enroll what ``event`` touches. ``registry`` resolves trigger audiences
    (none given: no audience is known)."""
    result = RouteResult()
    registry = registry or Registry()
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
            result.enrolled += _trigger(session, book, registry, journey, now, event)
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
    started = enroll_many(
        session,
        book=book,
        journey=journey,
        now=now,
        members=[AudienceMember(customer_id, subject_key, data)],  # type: ignore[arg-type]
    )
    return started[0] if started else None


def enroll_many(
    session: Session,
    *,
    book: JourneyBook,
    journey: Journey,
    now: datetime,
    members: list[AudienceMember],
) -> list[Enrollment]:
    """Start ``journey`` for many subjects at once (a restock audience can be 100,000): the
    re-entry rule is checked with one query per chunk of subjects, not per subject, and the
    rows are inserted in one flush. A subject listed twice starts once (unless ``always``)."""
    if journey.reentry != "always":
        members = _first_per_subject(members)
    subjects = [m.subject_key for m in members]
    blocked: set[str] = set()
    if journey.reentry == "once":
        blocked |= _existing(session, col(Enrollment.subject_key), subjects, journey.name)
    if journey.reentry != "always":
        keys = [f"{journey.name}:{s}" for s in subjects]
        prefix = len(journey.name) + 1
        blocked |= {k[prefix:] for k in _existing(session, col(Enrollment.active_key), keys)}
    version = book.snapshot(session, journey.name, now)
    started = [
        Enrollment(
            journey=journey.name,
            version=version,
            subject_type=journey.subject,
            subject_key=m.subject_key,
            customer_id=m.customer_id,
            active_key=f"{journey.name}:{m.subject_key}" if journey.reentry != "always" else None,
            node_id=journey.start_id,
            status="active",
            wake_at=now,
            data=m.data,
            visits={journey.start_id: 1},
            entered_at=now,
            updated_at=now,
        )
        for m in members
        if m.subject_key not in blocked
    ]
    if not started:
        return []
    session.add_all(started)
    session.flush()
    for e in started:
        record(session, e, now, "enter", None, journey.start_id, {"subject": e.subject_key})
    return started


def _first_per_subject(members: list[AudienceMember]) -> list[AudienceMember]:
    seen: set[str] = set()
    unique = []
    for member in members:
        if member.subject_key not in seen:
            seen.add(member.subject_key)
            unique.append(member)
    return unique


def _existing(session: Session, column: Any, values: list[str], journey: str = "") -> set[str]:
    """Which of ``values`` the column already holds (for ``journey``, when given)."""
    found: set[str] = set()
    for low in range(0, len(values), IN_CHUNK):
        query = select(column).where(column.in_(values[low : low + IN_CHUNK]))
        if journey:
            query = query.where(Enrollment.journey == journey)
        found |= {str(v) for v in session.exec(query).all()}
    return found


def _trigger(
    session: Session,
    book: JourneyBook,
    registry: Registry,
    journey: Journey,
    now: datetime,
    event: DomainEvent,
) -> list[int]:
    context = {"event": event.data, "settings": journey.settings}
    if journey.trigger.filter and not holds(journey.trigger.filter, context):
        return []
    base = {"event": event.data}
    if journey.trigger.audience:
        members = registry.get_audience(journey.trigger.audience)(
            session=session, journey=journey, event=event, now=now
        )
    else:
        prefix = f"{journey.subject}:"
        subject = next((k for k in event.data.get("_keys", []) if k.startswith(prefix)), None)
        if subject is None:
            return []
        members = [AudienceMember(event.customer_id, subject, {})]  # type: ignore[arg-type]
    members = [AudienceMember(m.customer_id, m.subject_key, {**base, **m.data}) for m in members]
    started = enroll_many(session, book=book, journey=journey, now=now, members=members)
    return [int(e.id) for e in started if e.id is not None]


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

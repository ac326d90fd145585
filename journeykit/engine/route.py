"""Route a recorded event or action to journeys: exit (``exit_when``), wake (``wait_for``
outcomes) and enroll (triggers, with the journey's re-entry rule)."""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import insert, or_
from sqlmodel import Session, col, select

from journeykit.engine.bind_values import execute_many
from journeykit.engine.book import JourneyBook
from journeykit.engine.registry import Registry
from journeykit.engine.transitions import exit_enrollment, record
from journeykit.foundation.models import (
    CustomerAction,
    DomainEvent,
    Enrollment,
    EnrollmentHistory,
)
from journeykit.language.journey import Journey
from journeykit.templating.expressions import holds

LIVE = ("active", "waiting")
IN_CHUNK = 500  # values per IN (...) list
ENROLL_CHUNK = 2_000  # audience members per enrollment chunk (and checkpoint)

Checkpoint = Callable[[], None]


def _ids() -> array[int]:
    return array("q")


@dataclass
class RouteResult:
    enrolled: array[int] = field(default_factory=_ids)  # 8 bytes per id: audiences are large
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
    checkpoint: Checkpoint | None = None,
    triggers_only: bool = False,
) -> RouteResult:
    """Exit, wake and enroll what ``event`` touches. ``registry`` resolves trigger audiences
    (none given: no audience is known). ``checkpoint``: called after each chunk of a trigger
    audience's enrollment (:func:`enroll_audience`; a journey started for the event's own
    subject enrolls one, and commits nothing part-way). ``triggers_only``: enroll only (to
    resume an event whose enrollment stopped part-way: its exits and wakes are done)."""
    result = RouteResult()
    registry = registry or Registry()
    keys = set(event.data.get("_keys", []))
    signal = f"event:{event.type}"
    live = [] if triggers_only else _live_enrollments(session, keys, event.customer_id)
    for enrollment in live:
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
            result.enrolled += _trigger(session, book, registry, journey, now, event, checkpoint)
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
    members: Iterable[AudienceMember],
) -> list[Enrollment]:
    """:func:`enroll_audience`, answering with the started rows as ORM objects (for a few
    subjects: a test, one trigger; a large audience wants the ids only)."""
    ids = enroll_audience(session, book=book, journey=journey, now=now, members=members)
    if not ids:
        return []
    rows = {
        e.id: e
        for low in range(0, len(ids), IN_CHUNK)
        for e in session.exec(
            select(Enrollment).where(col(Enrollment.id).in_(ids[low : low + IN_CHUNK]))
        ).all()
    }
    return [rows[i] for i in ids]


def enroll_audience(
    session: Session,
    *,
    book: JourneyBook,
    journey: Journey,
    now: datetime,
    members: Iterable[AudienceMember],
    checkpoint: Checkpoint | None = None,
    chunk: int = ENROLL_CHUNK,
) -> array[int]:
    """Start ``journey`` for an audience of any size (a restock can be 1,000,000) in constant
    memory: ``members`` is consumed ``chunk`` at a time; per chunk, the re-entry rule is one
    query per :data:`IN_CHUNK` subjects and the rows and their ``enter`` history are two Core
    INSERTs (no ORM object per row). ``checkpoint`` (e.g. the session's commit) is called
    after each chunk, so a long audience neither holds one transaction nor loses what was
    done on a crash: enrolling the same audience again skips who is already enrolled (the
    re-entry rule; ``always`` journeys have none, so resume only those from an audience that
    drops whom it answered). A subject listed twice starts once (unless ``always``). Returns
    the started ids in order (8 bytes each)."""
    started: array[int] = array("q")
    version = book.snapshot(session, journey.name, now)
    for part in _batched(members, chunk):
        ids = _enroll_chunk(session, journey, version, now, part)
        started.extend(ids)
        if checkpoint is not None:
            checkpoint()
    return started


def _enroll_chunk(
    session: Session,
    journey: Journey,
    version: str,
    now: datetime,
    members: list[AudienceMember],
) -> list[int]:
    unique = journey.reentry != "always"
    if unique:
        members = _first_per_subject(members)
    subjects = [m.subject_key for m in members]
    blocked: set[str] = set()
    if journey.reentry == "once":
        blocked |= _existing(session, col(Enrollment.subject_key), subjects, journey.name)
    if unique:
        keys = [f"{journey.name}:{s}" for s in subjects]
        prefix = len(journey.name) + 1
        blocked |= {k[prefix:] for k in _existing(session, col(Enrollment.active_key), keys)}
    rows: list[dict[str, Any]] = [
        {
            "journey": journey.name,
            "version": version,
            "subject_type": journey.subject,
            "subject_key": m.subject_key,
            "customer_id": m.customer_id,
            "active_key": f"{journey.name}:{m.subject_key}" if unique else None,
            "node_id": journey.start_id,
            "status": "active",
            "wake_at": now,
            "waiting_for": [],
            "data": m.data,
            "visits": {journey.start_id: 1},
            "entered_at": now,
            "updated_at": now,
        }
        for m in members
        if m.subject_key not in blocked
    ]
    if not rows:
        return []
    table = Enrollment.__table__  # type: ignore[attr-defined]
    inserted = session.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    ids = [int(row[0]) for row in inserted]
    history = [
        {
            "enrollment_id": i,
            "at": now,
            "kind": "enter",
            "from_node": None,
            "to_node": journey.start_id,
            "detail": {"subject": row["subject_key"]},
        }
        for i, row in zip(ids, rows, strict=True)
    ]
    execute_many(session.connection(), insert(EnrollmentHistory), history)
    return ids


def _batched(members: Iterable[AudienceMember], size: int) -> Iterator[list[AudienceMember]]:
    it = iter(members)
    while part := list(islice(it, size)):
        yield part


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
    checkpoint: Checkpoint | None,
) -> array[int]:
    context = {"event": event.data, "settings": journey.settings}
    if journey.trigger.filter and not holds(journey.trigger.filter, context):
        return _ids()
    base = {"event": event.data}
    members: Iterable[AudienceMember]
    if journey.trigger.audience:
        members = registry.get_audience(journey.trigger.audience)(
            session=session, journey=journey, event=event, now=now
        )
    else:
        prefix = f"{journey.subject}:"
        subject = next((k for k in event.data.get("_keys", []) if k.startswith(prefix)), None)
        if subject is None:
            return _ids()
        members = [AudienceMember(event.customer_id, subject, {})]  # type: ignore[arg-type]
    with_event = (AudienceMember(m.customer_id, m.subject_key, {**base, **m.data}) for m in members)
    if not journey.trigger.audience:
        checkpoint = None  # one subject: nothing to commit part-way
    return enroll_audience(
        session, book=book, journey=journey, now=now, members=with_event, checkpoint=checkpoint
    )


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

"""Applying the event inbox: pending events in acceptance order per subject (update the
store, record the ``DomainEvent``, route it to journeys), each in its own transaction,
handing back the enrollments they touched for the caller to advance.

Order: an inbox row is applied only when no earlier row of its subject is still pending, and
applying claims it with a conditional ``UPDATE`` as the first statement of its transaction
(a row lock on PostgreSQL, SQLite's single writer), so two workers never apply one event or
overtake each other within a subject, whatever order their runs started in. An event that
fails is retried with backoff by the next apply (the event flow, the web request, the sweep),
holding back the events behind it; one about a subject not known yet (``order.delayed``
accepted before its ``order.placed``) is ``waiting`` and lets them pass; after
``MAX_ATTEMPTS`` it is ``failed``, shown by ``journeys status`` and replayed by
``journeys events replay ID``.

A large audience (a restock to 1,000,000 sign-ups) is enrolled in chunks, each committed: the
event is then ``applying`` between chunks, holding back the later events of its subject, and
its lease (``APPLY_LEASE``, renewed at every chunk) says when another worker may take it up.
A worker that stops part-way leaves the event ``applying``; once the lease has run out the next
apply resumes it where it stopped (the re-entry rule skips whoever is in: nobody twice)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, exists, func, or_, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import InboxEvent
from journeykit.store.sync import UnknownSubject

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=30)
# how long an event part-way through a large audience stays its worker's between two chunks
APPLY_LEASE = timedelta(minutes=2)
HOLDING = ("pending", "applying")  # what holds back the later events of its subject


@dataclass
class Applied:
    """What one apply round did: events applied (inbox ids), the enrollments they touched,
    events left waiting for a retry and events that failed for good."""

    applied: list[int] = field(default_factory=list)
    event_ids: dict[int, int] = field(default_factory=dict)  # inbox id -> DomainEvent id
    enrolled: list[int] = field(default_factory=list)
    woken: list[int] = field(default_factory=list)
    exited: list[int] = field(default_factory=list)
    waiting: dict[int, str] = field(default_factory=dict)  # inbox id -> why
    failed: dict[int, str] = field(default_factory=dict)
    retried_at_once: set[int] = field(default_factory=set, repr=False)

    @property
    def touched(self) -> list[int]:
        return list(dict.fromkeys([*self.enrolled, *self.woken]))


def _earlier_pending() -> Any:
    earlier = aliased(InboxEvent)
    return exists().where(
        and_(
            col(earlier.subject) == col(InboxEvent.subject),
            col(earlier.status).in_(HOLDING),
            col(earlier.id) < col(InboxEvent.id),
        )
    )


def _its_turn(now: datetime) -> Any:
    """A pending event with no earlier pending event of its subject, a waiting one, or one
    left part-way (``applying``) whose worker's lease has run out."""
    return or_(
        and_(col(InboxEvent.status) == "pending", ~_earlier_pending()),
        col(InboxEvent.status) == "waiting",
        and_(col(InboxEvent.status) == "applying", col(InboxEvent.next_try_at) <= now),
    )


def heads(session: Session, *, now: datetime, subjects: list[str] | None, limit: int) -> list[int]:
    """The events whose turn it is, if due: the first pending event of each subject (one
    being retried holds back the events behind it), and the waiting ones."""
    query = (
        select(InboxEvent.id)
        .where(col(InboxEvent.next_try_at) <= now, _its_turn(now))
        .order_by(col(InboxEvent.id))
        .limit(limit)
    )
    if subjects is not None:
        query = query.where(col(InboxEvent.subject).in_(subjects))
    return [int(i) for i in session.exec(query).all() if i is not None]


def apply_pending(
    runtime: Runtime, *, subjects: list[str] | None = None, limit: int = 500
) -> Applied:
    """Apply due pending events (of ``subjects``, or all), each in its own transaction, in
    acceptance order per subject; returns what they touched (not advanced yet)."""
    done = Applied()
    for _ in range(limit):
        with Session(runtime.engine) as session:
            ids = heads(session, now=runtime.clock.now(), subjects=subjects, limit=limit)
        ids = [i for i in ids if i not in done.waiting and i not in done.failed]
        if not ids:
            break
        progressed = False
        for inbox_id in ids:
            progressed |= apply_one(runtime, inbox_id, done)
        if not progressed:
            break
    return done


def apply_one(runtime: Runtime, inbox_id: int, done: Applied) -> bool:
    """Apply one inbox event if it is still the pending head of its subject; True when it
    was applied (``done`` says what happened either way)."""
    now = runtime.clock.now()
    try:
        with session_scope(runtime.engine) as session:
            # the claim: the first statement of the transaction takes the write lock (SQLite)
            # or the row lock (PostgreSQL); another worker's claim then finds it applied
            claimed = session.execute(
                update(InboxEvent)
                .where(col(InboxEvent.id) == inbox_id, _its_turn(now))
                .values(status="applying", next_try_at=now + APPLY_LEASE, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                return False
            row = session.get(InboxEvent, inbox_id)
            assert row is not None

            def checkpoint() -> None:
                """A chunk of a large audience is in: commit it, keep the event a lease
                longer (one transaction per event otherwise: a small one never calls this)."""
                session.execute(
                    update(InboxEvent)
                    .where(col(InboxEvent.id) == inbox_id)
                    .values(next_try_at=runtime.clock.now() + APPLY_LEASE)
                    .execution_options(synchronize_session=False)
                )
                session.commit()

            ingested = ingest_event(
                session,
                book=runtime.book,
                now=now,
                payload=dict(row.body),
                key=row.key,
                source=row.source,
                registry=runtime.registry,
                checkpoint=checkpoint,
            )
            row.status, row.applied_at = "applied", now
            row.event_id = ingested.event_id
            row.attempts += 1
            session.add(row)
    except UnknownSubject as exc:  # cannot apply yet: the order (sku...) is not known yet
        _retry_later(runtime, inbox_id, str(exc), done, hold_back=False)
        if inbox_id not in done.retried_at_once and _applied_since(runtime, inbox_id, now):
            # what it needs was applied while it tried (another worker, another request):
            # try once more now rather than after the backoff
            done.retried_at_once.add(inbox_id)
            _due_now(runtime, [inbox_id])
            done.waiting.pop(inbox_id, None)
        return False
    except Exception as exc:  # a failure: retry later, holding back its subject's events
        _retry_later(runtime, inbox_id, f"{type(exc).__name__}: {exc}", done, hold_back=True)
        return False
    # what waited for an order (sku, cart...) to be known may apply now. After the commit,
    # so an event that failed concurrently either sees this one applied (_applied_since) or
    # is already waiting here
    for waiting_id in _unblock_waiting(runtime):
        done.waiting.pop(waiting_id, None)
    done.applied.append(inbox_id)
    if ingested.event_id is not None:
        done.event_ids[inbox_id] = ingested.event_id
    done.enrolled += ingested.routed.enrolled
    done.woken += ingested.routed.woken
    done.exited += ingested.routed.exited
    return True


def _applied_since(runtime: Runtime, inbox_id: int, started: datetime) -> bool:
    with Session(runtime.engine) as session:
        found = session.exec(
            select(InboxEvent.id).where(
                InboxEvent.status == "applied",
                col(InboxEvent.applied_at) >= started,
                col(InboxEvent.id) != inbox_id,
            )
        ).first()
    return found is not None


def _due_now(runtime: Runtime, ids: list[int]) -> None:
    with session_scope(runtime.engine) as session:
        session.execute(
            update(InboxEvent)
            .where(col(InboxEvent.id).in_(ids), col(InboxEvent.status) == "waiting")
            .values(next_try_at=runtime.clock.now())
            .execution_options(synchronize_session=False)
        )


def _unblock_waiting(runtime: Runtime) -> list[int]:
    """Make the waiting events due now (an event just applied may be what they need)."""
    with Session(runtime.engine) as session:
        ids = [
            int(i)
            for i in session.exec(
                select(InboxEvent.id).where(
                    InboxEvent.status == "waiting",
                    col(InboxEvent.next_try_at) > runtime.clock.now(),
                )
            ).all()
            if i is not None
        ]
    if ids:
        _due_now(runtime, ids)
    return ids


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, ... up to 30 min."""
    return min(LONGEST_RETRY, FIRST_RETRY * (2 ** max(0, attempts - 1)))


def _retry_later(
    runtime: Runtime, inbox_id: int, error: str, done: Applied, *, hold_back: bool
) -> None:
    """Count the attempt; try again after a backoff, or mark it failed for good. An event
    about a subject not known yet is ``waiting``: it does not hold back the later events of
    its subject (one of them may be what introduces it)."""
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        row = session.get(InboxEvent, inbox_id)
        if row is None or row.status not in ("pending", "waiting", "applying"):
            return
        row.attempts += 1
        row.last_error = error[:1000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
            done.failed[inbox_id] = row.last_error
        else:
            row.status = "pending" if hold_back else "waiting"
            row.next_try_at = now + retry_delay(row.attempts)
            done.waiting[inbox_id] = row.last_error
        session.add(row)


def replay(runtime: Runtime, inbox_id: int) -> Applied:
    """Put a failed (or waiting) event back in line now and apply its subject's events."""
    with session_scope(runtime.engine) as session:
        row = session.get(InboxEvent, inbox_id)
        if row is None:
            raise LookupError(f"no event {inbox_id} in the inbox")
        if row.status == "applied":
            raise LookupError(f"event {inbox_id} was applied already")
        row.status, row.attempts = "pending", 0
        row.next_try_at = runtime.clock.now()
        session.add(row)
        subject = row.subject
    return apply_pending(runtime, subjects=[subject])


def failed_events(session: Session, limit: int = 50) -> list[InboxEvent]:
    """Events that failed for good, newest first (for ``journeys status``)."""
    query = (
        select(InboxEvent)
        .where(InboxEvent.status == "failed")
        .order_by(col(InboxEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def inbox_counts(session: Session) -> dict[str, int]:
    """How many inbox events are pending, applied and failed."""
    rows = session.exec(
        select(InboxEvent.status, func.count()).group_by(col(InboxEvent.status))
    ).all()
    return {status: int(n) for status, n in rows}


def due_heads(
    session: Session, *, now: datetime, limit: int, subjects: list[str] | None = None
) -> list[InboxEvent]:
    """The events whose turn it is (``heads``) as rows, in acceptance order: what a
    ``journeys worker`` polls for."""
    ids = heads(session, now=now, subjects=subjects, limit=limit)
    if not ids:
        return []
    rows = session.exec(select(InboxEvent).where(col(InboxEvent.id).in_(ids))).all()
    return sorted(rows, key=lambda row: row.id or 0)


# the first key of the two-key advisory lock: Journeykit's subjects, apart from other users
_SUBJECT_LOCKS = 0x4A4B


class SubjectLocks:
    """Which ``journeys worker`` works on which subjects now, so two workers do not both start
    a run for the same events (one would apply them, the other would find nothing): on
    PostgreSQL a session-level advisory lock per subject on a connection of its own,
    released by ``release`` or by the server when the worker's connection ends (a SIGKILLed
    worker holds nothing). Elsewhere (SQLite: one writer, one worker) every subject is free.
    Correctness does not rest on these locks: ``apply_one``'s claim keeps each event applied
    once and in order; the locks only spare empty runs."""

    def __init__(self, engine: Engine) -> None:
        self._connection: Connection | None = None
        if engine.dialect.name == "postgresql":
            self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def take(self, subjects: list[str]) -> list[str]:
        """The subjects this worker now holds (those no other worker holds), in order."""
        if self._connection is None:
            return list(subjects)
        taken = []
        for subject in subjects:
            won = self._connection.execute(
                text("select pg_try_advisory_lock(:space, hashtext(:subject))"),
                {"space": _SUBJECT_LOCKS, "subject": subject},
            ).scalar_one()
            if won:
                taken.append(subject)
        return taken

    def release(self, subjects: list[str]) -> None:
        if self._connection is None:
            return
        for subject in subjects:
            self._connection.execute(
                text("select pg_advisory_unlock(:space, hashtext(:subject))"),
                {"space": _SUBJECT_LOCKS, "subject": subject},
            )

    def close(self) -> None:
        """Release every subject (the connection goes back to the pool: its locks must not)."""
        if self._connection is not None:
            try:
                self._connection.execute(text("select pg_advisory_unlock_all()"))
            except SQLAlchemyError:  # not to the pool with locks held: drop the connection
                self._connection.invalidate()
            self._connection.close()
            self._connection = None

"""Store events, the one way every door takes: **accept** (validate, store in the inbox by
idempotency key, before the door answers), **apply** pending events in acceptance order per
subject (update the store, record the ``DomainEvent``, route it to journeys), and hand back
the enrollments they touched, for the caller to advance.

Order: an inbox row is applied only when no earlier row of its subject is still pending, and
applying claims it with a conditional ``UPDATE`` as the first statement of its transaction
(a row lock on PostgreSQL, SQLite's single writer), so two workers never apply one event or
overtake each other within a subject, whatever order their runs started in. An event that
fails is retried with backoff by the next apply (the event flow, the web request, the sweep),
holding back the events behind it; one about a subject not known yet (``order.delayed``
accepted before its ``order.placed``) is ``waiting`` and lets them pass; after
``MAX_ATTEMPTS`` it is ``failed``, shown by ``journeys status`` and replayed by
``journeys events replay ID``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from journeykit.engine.ingest import Ingested, ingest_event
from journeykit.engine.ingest import record_action as record_action_in
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import InboxEvent, pk
from journeykit.language.events import parse_event
from journeykit.store.sync import UnknownSubject

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(minutes=30)


def subject_of(payload: dict[str, Any]) -> str:
    """What an event is about, as ops search for it: ``order:5001``, ``sku:TEE-M``, ..."""
    for name, kind in (("order_number", "order"), ("sku", "sku"), ("cart_token", "cart")):
        if payload.get(name):
            return f"{kind}:{payload[name]}"
    product = payload.get("product")
    if isinstance(product, dict) and product.get("sku"):
        return f"sku:{product['sku']}"
    for name, kind in (("order", "order"), ("cart", "cart"), ("customer", "customer")):
        value = payload.get(name)
        if isinstance(value, dict):
            key = value.get("number") or value.get("token") or value.get("id")
            if key:
                return f"{kind}:{key}"
    if payload.get("ticket_id") is not None:
        return f"ticket:{payload['ticket_id']}"
    return str(payload.get("type", "event"))


@dataclass
class Accepted:
    """One accepted event: its inbox row, and whether that key was seen before."""

    inbox_id: int
    subject: str
    duplicate: bool


def accept(
    session: Session, *, payload: dict[str, Any], key: str, source: str, now: datetime
) -> Accepted:
    """Validate ``payload`` (raises ``pydantic.ValidationError`` naming the field) and store
    it in the inbox under ``key`` unless that key is there already. The caller commits:
    only then may it answer 202."""
    parse_event(payload)
    existing = session.exec(select(InboxEvent).where(InboxEvent.key == key)).first()
    if existing is not None:
        return Accepted(pk(existing), existing.subject, duplicate=True)
    row = InboxEvent(
        key=key,
        subject=subject_of(payload),
        type=str(payload["type"]),
        body=to_jsonable_python(payload),  # datetimes as ISO text; parsed again on apply
        source=source,
        next_try_at=now,
        accepted_at=now,
    )
    session.add(row)
    session.flush()
    return Accepted(pk(row), row.subject, duplicate=False)


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
            col(earlier.status) == "pending",
            col(earlier.id) < col(InboxEvent.id),
        )
    )


def _its_turn() -> Any:
    """A pending event with no earlier pending event of its subject, or a waiting one."""
    return or_(
        and_(col(InboxEvent.status) == "pending", ~_earlier_pending()),
        col(InboxEvent.status) == "waiting",
    )


def heads(session: Session, *, now: datetime, subjects: list[str] | None, limit: int) -> list[int]:
    """The events whose turn it is, if due: the first pending event of each subject (one
    being retried holds back the events behind it), and the waiting ones."""
    query = (
        select(InboxEvent.id)
        .where(col(InboxEvent.next_try_at) <= now, _its_turn())
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
                .where(col(InboxEvent.id) == inbox_id, _its_turn())
                .values(status="applied", applied_at=now, last_error=None)
                .execution_options(synchronize_session=False)
            )
            if not getattr(claimed, "rowcount", 0):
                return False
            row = session.get(InboxEvent, inbox_id)
            assert row is not None
            with session.begin_nested():
                ingested = ingest_event(
                    session,
                    book=runtime.book,
                    now=now,
                    payload=dict(row.body),
                    key=row.key,
                    source=row.source,
                )
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
        if row is None or row.status not in ("pending", "waiting"):
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


def record_event(
    runtime: Runtime, *, payload: dict[str, Any], key: str, source: str
) -> tuple[Accepted, Applied]:
    """Accept an event and apply its subject's pending events at once (the CLI without
    Prefect, the simulator, the web app's inline delivery)."""
    with session_scope(runtime.engine) as session:
        accepted = accept(session, payload=payload, key=key, source=source, now=runtime.clock.now())
    return accepted, apply_pending(runtime, subjects=[accepted.subject])


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


def accept_and_apply(
    session: Session,
    runtime: Runtime,
    *,
    payload: dict[str, Any],
    key: str,
    source: str,
    now: datetime,
) -> tuple[Accepted, Applied]:
    """Accept an event and apply it in the caller's transaction, for a door whose next
    request needs it applied at once (Shopify's products webhooks: the inventory item
    mapping). Applied here unless an earlier event of its subject is still pending; then it
    waits its turn like any other."""
    accepted = accept(session, payload=payload, key=key, source=source, now=now)
    done = Applied()
    if accepted.duplicate:
        return accepted, done
    row = session.get(InboxEvent, accepted.inbox_id)
    assert row is not None
    earlier = session.exec(
        select(InboxEvent.id).where(
            InboxEvent.subject == row.subject,
            InboxEvent.status == "pending",
            col(InboxEvent.id) < accepted.inbox_id,
        )
    ).first()
    if earlier is not None:
        return accepted, done
    ingested = ingest_event(
        session, book=runtime.book, now=now, payload=payload, key=key, source=source
    )
    row.status, row.applied_at, row.attempts = "applied", now, 1
    row.event_id = ingested.event_id
    session.add(row)
    done.applied.append(accepted.inbox_id)
    if ingested.event_id is not None:
        done.event_ids[accepted.inbox_id] = ingested.event_id
    done.enrolled += ingested.routed.enrolled
    done.woken += ingested.routed.woken
    done.exited += ingested.routed.exited
    return accepted, done


def record_action(
    session: Session,
    *,
    now: datetime,
    customer_id: int,
    name: str,
    key: str,
    enrollment_id: int | None = None,
    source: str = "link",
    data: dict[str, Any] | None = None,
) -> Ingested:
    """Record a customer action once (``key``: link token, MessageSid, sg_event_id...) and
    wake the enrollment waiting on it; the caller commits, then advances ``routed.touched``.
    Actions are about one enrollment and apply at once: they do not queue in the inbox."""
    return record_action_in(
        session,
        now=now,
        customer_id=customer_id,
        name=name,
        key=key,
        enrollment_id=enrollment_id,
        source=source,
        data=data,
    )

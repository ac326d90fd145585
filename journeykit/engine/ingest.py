"""Applying one domain event or customer action: validate, record once (by idempotency
key), update the store tables, then route to journeys. One transaction, the caller's. Doors
do not call this directly: they go through :mod:`journeykit.service.events` (the inbox,
ordered per subject); a ``call`` node's action emits through it within its step."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from journeykit.engine.book import JourneyBook
from journeykit.engine.registry import Registry
from journeykit.engine.route import Checkpoint, RouteResult, route_action, route_event
from journeykit.foundation.models import CustomerAction, DomainEvent, Enrollment
from journeykit.language.event_types import parse_event
from journeykit.store.sync import apply_event


@dataclass
class Ingested:
    """What one accepted event or action did. ``duplicate``: seen before, nothing done."""

    duplicate: bool
    event_id: int | None = None
    routed: RouteResult = field(default_factory=RouteResult)


def new_key() -> str:
    """A key for callers that send none: a new event (identity is never the body)."""
    return f"new:{uuid.uuid4()}"


def ingest_event(
    session: Session,
    *,
    book: JourneyBook,
    now: datetime,
    payload: dict[str, Any],
    key: str | None = None,
    source: str = "api",
    exclude_enrollment: int | None = None,
    registry: Registry | None = None,
    checkpoint: Checkpoint | None = None,
) -> Ingested:
    """Validate ``payload`` (raises ``pydantic.ValidationError``/``UnknownSubject``), record it
    once, update the store and route it. The caller commits. ``registry`` (the runtime's)
    resolves trigger audiences.

    ``checkpoint`` (the caller's commit) lets a large audience commit per chunk: the event
    is then recorded with ``processed_at`` empty until its enrollment is complete, and
    ingesting the same key again after a crash resumes the enrollment (the re-entry rule
    skips whoever was enrolled) instead of answering ``duplicate``."""
    key = key or new_key()
    existing = session.exec(select(DomainEvent).where(DomainEvent.key == key)).first()
    if existing is not None and existing.processed_at is None:
        routed = route_event(
            session,
            book=book,
            now=now,
            event=existing,
            registry=registry,
            checkpoint=checkpoint,
            triggers_only=True,
        )
        existing.processed_at = now
        session.add(existing)
        return Ingested(duplicate=False, event_id=existing.id, routed=routed)
    if existing is not None:
        return Ingested(duplicate=True, event_id=existing.id)
    event = parse_event(payload, registry.declared_events() if registry is not None else ())
    customer_id, keys = apply_event(session, event, now)
    data = event.model_dump(mode="json")
    data["_keys"] = keys
    row = DomainEvent(
        key=key,
        type=event.type,
        customer_id=customer_id,
        subject_key=keys[0] if keys else None,
        data=data,
        source=source,
        occurred_at=now,
        processed_at=None,  # until routed (a checkpointed enrollment may stop part-way)
    )
    session.add(row)
    session.flush()
    routed = route_event(
        session,
        book=book,
        now=now,
        event=row,
        exclude=exclude_enrollment,
        registry=registry,
        checkpoint=checkpoint,
    )
    row.processed_at = now
    session.add(row)
    return Ingested(duplicate=False, event_id=row.id, routed=routed)


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
    wake the enrollment waiting on it. The caller commits."""
    existing = session.exec(select(CustomerAction).where(CustomerAction.key == key)).first()
    if existing is not None:
        return Ingested(duplicate=True, event_id=existing.id)
    if enrollment_id is not None:
        enrollment = session.get(Enrollment, enrollment_id)
        if enrollment is None or enrollment.customer_id != customer_id:
            raise LookupError(f"enrollment {enrollment_id} does not belong to this customer")
    action = CustomerAction(
        key=key,
        customer_id=customer_id,
        enrollment_id=enrollment_id,
        name=name,
        source=source,
        at=now,
        data=data or {},
    )
    session.add(action)
    session.flush()
    routed = route_action(session, now=now, action=action)
    return Ingested(duplicate=False, event_id=action.id, routed=routed)

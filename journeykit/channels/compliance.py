"""Whether and when a message may go: consent, the opt-out ledger, quiet hours in the
recipient's zone(s), and the cross-journey frequency cap. Every decision is recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from journeykit.channels.quiet_hours import next_allowed
from journeykit.models import Consent, Customer, OutboxMessage
from journeykit.spec.journey import Journey
from journeykit.spec.nodes import parse_local_time

COUNTED = ("queued", "sending", "sent", "delivered", "simulated")


@dataclass
class Decision:
    """``allowed`` False: suppressed, with ``reason``. ``due_at``: the first allowed time."""

    allowed: bool
    due_at: datetime
    reason: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)


def latest_consent(session: Session, customer_id: int, channel: str) -> Consent | None:
    return session.exec(
        select(Consent)
        .where(Consent.customer_id == customer_id, Consent.channel == channel)
        .order_by(col(Consent.recorded_at).desc(), col(Consent.id).desc())
    ).first()


def may_contact(session: Session, customer: Customer, channel: str, category: str) -> str | None:
    """None when allowed, else why not. An SMS opt-out (STOP) blocks every SMS; marketing
    needs recorded consent for the channel; transactional needs an address."""
    address = customer.email if channel == "email" else customer.phone
    if not address:
        return f"no {channel} address"
    consent = latest_consent(session, customer.id, channel)  # type: ignore[arg-type]
    if channel == "sms" and consent is not None and not consent.granted:
        return f"opted out of sms ({consent.source})"
    if category == "marketing":
        if consent is None:
            return f"no marketing consent for {channel}"
        if not consent.granted:
            return f"unsubscribed from {channel} ({consent.source})"
    return None


def quiet_hours_due(journey: Journey, channel: str, tz_names: list[str], at: datetime) -> datetime:
    """The first allowed instant at or after ``at`` in every zone the recipient may be in."""
    window = journey.quiet_hours
    if channel not in window.channels:
        return at
    start, end = parse_local_time(window.start), parse_local_time(window.end)
    due = at
    for _ in range(4):  # zones can push each other; settle
        moved = max(next_allowed(due, tz, start, end) for tz in tz_names)
        if moved == due:
            break
        due = moved
    return due


def frequency_capped(
    session: Session, journey: Journey, customer_id: int, due: datetime
) -> tuple[datetime | None, int]:
    """(deferred due time or None when under the cap, messages counted in the window)."""
    cap = journey.frequency_cap
    if cap is None:
        return None, 0
    window: timedelta = cap.window
    recent = session.exec(
        select(OutboxMessage.due_at)
        .where(
            OutboxMessage.customer_id == customer_id,
            OutboxMessage.category == "marketing",
            col(OutboxMessage.status).in_(COUNTED),
            col(OutboxMessage.due_at) > due - window,
            col(OutboxMessage.due_at) <= due + window,
        )
        .order_by(col(OutboxMessage.due_at))
    ).all()
    before = [t for t in recent if t <= due]
    if len(before) < cap.max:
        return None, len(before)
    return before[len(before) - cap.max] + window, len(before)


def decide(
    session: Session,
    *,
    journey: Journey,
    customer: Customer,
    channel: str,
    category: str,
    now: datetime,
    zones: list[str],
) -> Decision:
    reason = may_contact(session, customer, channel, category)
    if reason:
        return Decision(False, now, reason)
    due = quiet_hours_due(journey, channel, zones, now)
    notes: list[dict[str, Any]] = []
    if due != now:
        notes.append({"rule": "quiet_hours", "deferred_to": due.isoformat()})
    if category == "marketing" and journey.frequency_cap is not None:
        for _ in range(10):
            deferred, counted = frequency_capped(session, journey, customer.id, due)  # type: ignore[arg-type]
            if deferred is None:
                break
            if journey.frequency_cap.on_cap == "skip":
                notes.append({"rule": "frequency_cap", "action": "skip", "counted": counted})
                return Decision(False, now, "frequency cap reached", notes)
            due = quiet_hours_due(journey, channel, zones, deferred)
            notes.append(
                {"rule": "frequency_cap", "deferred_to": due.isoformat(), "counted": counted}
            )
    return Decision(True, due, "", notes)


def count_recent(session: Session, customer_id: int, since: datetime) -> int:
    return session.exec(
        select(func.count()).where(
            OutboxMessage.customer_id == customer_id, col(OutboxMessage.due_at) >= since
        )
    ).one()

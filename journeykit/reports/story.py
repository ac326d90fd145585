"""A customer's or an order's story: one timeline of what happened to them, read from the
database (a pure read): the events received, each enrollment and every move it made, the
messages with their status and provider id (and what the provider said later), the customer's
actions and consent changes. ``journeys customer`` / ``journeys order`` print it; the same
story is published as a Prefect markdown artifact."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, or_, select

from journeykit.foundation.models import (
    Consent,
    Customer,
    CustomerAction,
    DomainEvent,
    Enrollment,
    EnrollmentHistory,
    MessageEvent,
    Order,
    OutboxMessage,
)
from journeykit.messaging.phone import normalize_e164
from journeykit.timing.clock import aware

# the order entries of one instant are told in: what arrived, what it started, what moved,
# what was sent,
# what the provider and the customer said, and last where an enrollment stands now
KIND_ORDER = ("event", "enrolled", "move", "message", "provider", "action", "consent", "now")


class StoryNotFound(LookupError):
    """No customer or order matches what was asked for (the message says what was tried)."""


@dataclass(frozen=True)
class Entry:
    """One line of a story: when, what kind of thing, and what it said (stored strings,
    never markup: whoever shows them escapes them)."""

    at: datetime
    kind: str  # one of KIND_ORDER
    what: str
    detail: str = ""


@dataclass
class Story:
    """``subject`` is ``customer 12 (ext-7)`` or ``order 5001``; ``key`` names its artifact."""

    title: str
    key: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


def artifact_key(kind: str, ident: str) -> str:
    """``story-order-5001``: Prefect keys allow lower-case letters, digits and dashes only."""
    cleaned = "".join(c if c.isalnum() and c.isascii() else "-" for c in ident.lower())
    return f"story-{kind}-" + "-".join(part for part in cleaned.split("-") if part)


def find_customer(session: Session, ident: str, *, store_id: bool = False) -> Customer:
    """By our id, the store's id, an email address or a phone number (any written form);
    ``store_id``: by the store's id only (what an event names)."""
    text = ident.strip()
    conditions: list[Any] = [col(Customer.external_id) == text]
    if not store_id:
        conditions += _other_ways(text)
    rows = session.exec(select(Customer).where(or_(*conditions))).all()
    if not rows:
        raise StoryNotFound(f"no customer with id, store id, email or phone {text!r}")
    # our own id wins over a store id that happens to be the same digits
    return sorted(rows, key=lambda c: (store_id or str(c.id) != text, c.id or 0))[0]


def _other_ways(text: str) -> list[Any]:
    """Our id, an email address, a phone number written any way."""
    if text.isdigit():
        return [col(Customer.id) == int(text)]
    if "@" in text:
        return [col(Customer.email).in_({text, text.lower()})]
    with contextlib.suppress(ValueError):
        return [col(Customer.phone) == normalize_e164(text)]
    return []


def customer_story(session: Session, ident: str, *, store_id: bool = False) -> Story:
    customer = find_customer(session, ident, store_id=store_id)
    cid = customer.id
    enrollments = list(session.exec(select(Enrollment).where(Enrollment.customer_id == cid)))
    events = list(session.exec(select(DomainEvent).where(DomainEvent.customer_id == cid)))
    events += _shared_events(session, enrollments, {e.id for e in events})
    messages = list(session.exec(select(OutboxMessage).where(OutboxMessage.customer_id == cid)))
    actions = list(session.exec(select(CustomerAction).where(CustomerAction.customer_id == cid)))
    story = Story(
        title=f"customer {cid} (store id {customer.external_id})",
        key=artifact_key("customer", str(cid)),
        facts=_customer_facts(session, customer),
    )
    story.entries = _timeline(
        session, events, enrollments, messages, actions, _consents(session, cid)
    )
    return story


def order_story(session: Session, number: str) -> Story:
    number = number.strip().removeprefix("#")
    order = session.exec(select(Order).where(Order.number == number)).first()
    if order is None:
        raise StoryNotFound(f"no order number {number!r}")
    subject = f"order:{number}"
    enrollments = [
        e
        for e in session.exec(select(Enrollment).where(Enrollment.customer_id == order.customer_id))
        if subject in e.subject_key.split("|")
    ]
    events = [
        e
        for e in session.exec(
            select(DomainEvent).where(
                or_(
                    col(DomainEvent.subject_key) == subject,
                    col(DomainEvent.customer_id) == order.customer_id,
                )
            )
        )
        if e.subject_key == subject or subject in (e.data or {}).get("_keys", [])
    ]
    ids = [e.id for e in enrollments]
    messages = list(
        session.exec(select(OutboxMessage).where(col(OutboxMessage.enrollment_id).in_(ids)))
    )
    # the customer's actions on these enrollments, and those recorded for no enrollment (an
    # SMS reply, a link) unless they name another order
    actions = [
        a
        for a in session.exec(
            select(CustomerAction).where(CustomerAction.customer_id == order.customer_id)
        )
        if a.enrollment_id in ids
        or (a.enrollment_id is None and str((a.data or {}).get("order_number", number)) == number)
    ]
    customer = session.get(Customer, order.customer_id)
    facts = [
        ("status", order.status),
        ("placed", _when(order.placed_at)),
        ("customer", f"{order.customer_id} (store id {customer.external_id if customer else '?'})"),
        ("total", f"{order.total_cents / 100:.2f} {order.currency}"),
    ]
    if order.ship_from or order.ship_to:
        facts.append(("ships", f"{_when(order.ship_from)} – {_when(order.ship_to)}"))
    if order.delay_reason:
        facts.append(("delay", order.delay_reason))
    story = Story(title=f"order {number}", key=artifact_key("order", number), facts=facts)
    consents = _consents(session, order.customer_id)
    story.entries = _timeline(session, events, enrollments, messages, actions, consents)
    return story


def _shared_events(
    session: Session, enrollments: list[Enrollment], seen: set[int | None], limit: int = 50
) -> list[DomainEvent]:
    """Events about what the customer's enrollments wait on but no customer owns (a SKU's
    restock, a cart's stock): while an enrollment was live, the latest ``limit``."""
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for enrollment in enrollments:
        for part in enrollment.subject_key.split("|"):
            if not part.startswith("customer:"):
                spans.setdefault(part, []).append(
                    (aware(enrollment.entered_at), aware(enrollment.updated_at))
                )
    if not spans:
        return []
    query = (
        select(DomainEvent)
        .where(col(DomainEvent.subject_key).in_(list(spans)))
        .where(col(DomainEvent.customer_id).is_(None))
        .order_by(col(DomainEvent.occurred_at).desc())
    )
    found = [
        event
        for event in session.exec(query)
        if event.id not in seen
        and any(
            start <= aware(event.occurred_at) <= end
            for start, end in spans[event.subject_key or ""]
        )
    ]
    return found[:limit]


def _customer_facts(session: Session, customer: Customer) -> list[tuple[str, str]]:
    facts = [
        ("email", customer.email or "—"),
        ("phone", customer.phone or "—"),
        ("zone", f"{customer.timezone} · {customer.locale}"),
    ]
    in_force: dict[tuple[str, str], Consent] = {}
    for row in _consents(session, customer.id):
        in_force[(row.channel, row.purpose)] = row
    for (channel, purpose), row in sorted(in_force.items()):
        facts.append((f"{channel} {purpose}", "granted" if row.granted else "refused"))
    return facts


def _consents(session: Session, customer_id: int | None) -> list[Consent]:
    query = select(Consent).where(Consent.customer_id == customer_id)
    return list(session.exec(query.order_by(col(Consent.recorded_at), col(Consent.id))))


def _timeline(
    session: Session,
    events: Iterable[DomainEvent],
    enrollments: list[Enrollment],
    messages: list[OutboxMessage],
    actions: Iterable[CustomerAction],
    consents: Iterable[Consent],
) -> list[Entry]:
    entries: list[Entry] = []
    for event in events:
        detail = f"{event.subject_key or ''} · from {event.source}".removeprefix(" · ")
        entries.append(Entry(aware(event.occurred_at), "event", event.type, detail))
    names = {e.id: f"{e.journey} #{e.id}" for e in enrollments}
    history = session.exec(
        select(EnrollmentHistory)
        .where(col(EnrollmentHistory.enrollment_id).in_(list(names)))
        .order_by(col(EnrollmentHistory.at), col(EnrollmentHistory.id))
    )
    for step in history:
        entries.append(_move(step, names[step.enrollment_id]))
    for enrollment in enrollments:
        if enrollment.status in ("active", "waiting"):
            due = f" · due {_when(enrollment.wake_at)}" if enrollment.wake_at else ""
            waits = (
                f" · waits for {', '.join(enrollment.waiting_for)}"
                if enrollment.waiting_for
                else ""
            )
            now_line = f"now at {enrollment.node_id} ({enrollment.status}){due}{waits}"
            entries.append(
                Entry(aware(enrollment.updated_at), "now", names[enrollment.id], now_line)
            )
    for message in messages:
        entries.append(_message(message))
    provider_events = session.exec(
        select(MessageEvent).where(col(MessageEvent.outbox_id).in_([m.id for m in messages]))
    )
    templates = {m.id: f"{m.channel} {m.template}" for m in messages}
    for said in provider_events:
        what = templates.get(said.outbox_id, "")
        entries.append(Entry(aware(said.at), "provider", said.kind, what))
    for action in actions:
        where = f"{action.name} · via {action.source}"
        enrolled = f" · {names[action.enrollment_id]}" if action.enrollment_id in names else ""
        entries.append(Entry(aware(action.at), "action", where, enrolled.removeprefix(" · ")))
    for consent in consents:
        verdict = "granted" if consent.granted else "refused"
        what = f"{consent.channel} {consent.purpose} {verdict}"
        entries.append(Entry(aware(consent.recorded_at), "consent", what, consent.source))
    return sorted(entries, key=lambda e: (e.at, KIND_ORDER.index(e.kind)))


def _move(row: EnrollmentHistory, enrollment: str) -> Entry:
    kind = "enrolled" if row.kind == "enter" else "move"
    if row.kind == "enter":
        what = f"{enrollment} entered at {row.to_node}"
    elif row.kind == "exit":
        what = f"{enrollment} exited at {row.from_node}"
    elif row.from_node and row.to_node and row.from_node != row.to_node:
        what = f"{enrollment} {row.kind} {row.from_node} → {row.to_node}"
    else:
        what = f"{enrollment} {row.kind} {row.to_node or row.from_node or ''}".rstrip()
    detail = _detail(row.detail or {})
    return Entry(aware(row.at), kind, what, detail)


def _detail(detail: dict[str, Any]) -> str:
    """The history row's detail, short: ``reason=shipped, until=2026-03-04T09:00``."""
    parts = [f"{k}={v}" for k, v in detail.items() if k != "subject" and v not in (None, "", [])]
    text = ", ".join(parts)
    return text if len(text) <= 160 else text[:159] + "…"


def _message(message: OutboxMessage) -> Entry:
    what = f"{message.channel} {message.template} · {message.status}"
    parts = [f"{message.journey}.{message.node_id}"]
    if message.provider_id:
        parts.append(f"provider id {message.provider_id}")
    if message.sent_at:
        parts.append(f"sent {_when(message.sent_at)}")
    if message.attempts > 1:
        parts.append(f"{message.attempts} attempts")
    if message.error_code or message.error:
        parts.append(f"error {message.error_code or ''} {message.error or ''}".strip())
    return Entry(aware(message.created_at), "message", what, " · ".join(parts))


def _when(at: datetime | None) -> str:
    return aware(at).strftime("%Y-%m-%d %H:%M") if at else "—"

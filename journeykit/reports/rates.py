"""Message rates from what providers told us (docs/reports.md, "Rates"). One row per message
sent, with what happened to it; summed per journey, node, template, A/B arm or send day.
Every count is of distinct messages (one message has one recipient), so a customer who
clicks twice, or whose click arrives both through our short link and SendGrid's click
tracking, counts once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from journeykit.foundation.models import Customer, MessageEvent, OutboxMessage
from journeykit.reports.attribution import arms_of
from journeykit.timing.clock import aware

# provider event kind -> what it says about the message
EVENT_FLAGS = {
    "delivered": "delivered",
    "open": "opened",
    "click": "clicked",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
    "bounce": "bounced",
    "dropped": "bounced",
    "undelivered": "bounced",
    "failed": "bounced",
    "spamreport": "complained",
}
FLAGS = ("delivered", "opened", "clicked", "unsubscribed", "bounced", "complained", "replied")


@dataclass
class MessageFacts:
    """One sent message and what happened to it."""

    outbox_id: int
    customer_id: int
    journey: str
    node: str
    template: str
    channel: str
    variant: str | None
    sent_on: date
    sent_at: datetime
    flags: set[str] = field(default_factory=set)
    machine_open: bool = False  # every open of it was flagged as machine (privacy) open


@dataclass
class Rates:
    """Counts of distinct messages, and the rates of docs/reports.md."""

    sent: int = 0
    delivered: int = 0
    opened: int = 0  # an estimate: privacy proxies open every email, image blockers none
    machine_opened: int = 0  # opens the provider flagged as automatic (Apple Mail privacy)
    clicked: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    complained: int = 0
    replied: int = 0  # SMS replies

    def add(self, facts: MessageFacts) -> None:
        self.sent += 1
        for flag in FLAGS:
            if flag in facts.flags:
                setattr(self, flag, getattr(self, flag) + 1)
        self.machine_opened += facts.machine_open

    def rate(self, name: str) -> float:
        """bounced and delivered over sent; every other over delivered."""
        base = self.sent if name in ("delivered", "bounced") else self.delivered
        return getattr(self, name) / base if base else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "rates": {name: round(self.rate(name), 4) for name in FLAGS},
            "opened_is_estimate": True,
        }


def message_facts(session: Session, *, journey: str | None = None) -> list[MessageFacts]:
    """Every message a provider accepted (``sent_at`` set, or simulated), with its flags."""
    query = select(OutboxMessage).where(
        col(OutboxMessage.sent_at).is_not(None) | (OutboxMessage.status == "simulated")
    )
    if journey is not None:
        query = query.where(OutboxMessage.journey == journey)
    rows = session.exec(query).all()
    facts = {
        int(m.id or 0): MessageFacts(
            outbox_id=int(m.id or 0),
            customer_id=m.customer_id,
            journey=m.journey,
            node=m.node_id,
            template=m.template,
            channel=m.channel,
            variant=m.variant,
            sent_on=aware(m.sent_at or m.due_at).date(),
            sent_at=aware(m.sent_at or m.due_at),
        )
        for m in rows
    }
    if not facts:
        return []
    events_query = select(MessageEvent.outbox_id, MessageEvent.kind, MessageEvent.data).join(
        OutboxMessage, col(OutboxMessage.id) == MessageEvent.outbox_id
    )
    if journey is not None:
        events_query = events_query.where(OutboxMessage.journey == journey)
    events = [e for e in session.exec(events_query).all() if e[0] in facts]
    human_open: set[int] = set()
    for outbox_id, kind, data in events:
        flag = EVENT_FLAGS.get(kind)
        if flag is None:
            continue
        facts[outbox_id].flags.add(flag)
        if kind == "open" and not (data or {}).get("sg_machine_open"):
            human_open.add(outbox_id)
    for outbox_id, fact in facts.items():
        fact.machine_open = "opened" in fact.flags and outbox_id not in human_open
    _mark_replies(session, facts)
    return list(facts.values())


def _mark_replies(session: Session, facts: dict[int, MessageFacts]) -> None:
    """An inbound SMS counts as a reply to the last SMS sent to that customer before it."""
    sms = [f for f in facts.values() if f.channel == "sms"]
    if not sms:
        return
    by_customer: dict[int, list[tuple[datetime, int]]] = {}
    for fact in sms:
        by_customer.setdefault(fact.customer_id, []).append((fact.sent_at, fact.outbox_id))
    phones = {
        phone: customer
        for phone, customer in session.exec(
            select(Customer.phone, Customer.id).where(col(Customer.phone).is_not(None))
        ).all()
        if customer in by_customer
    }
    inbound = session.exec(
        select(MessageEvent.at, MessageEvent.data).where(MessageEvent.kind == "inbound")
    ).all()
    for at, data in inbound:
        customer = phones.get(str((data or {}).get("From") or ""))
        earlier = [s for s in by_customer.get(customer or -1, []) if s[0] <= aware(at)]
        if earlier:
            facts[max(earlier)[1]].flags.add("replied")


def rates_by(
    facts: Iterable[MessageFacts], key: Callable[[MessageFacts], Iterable[Any]]
) -> dict[Any, Rates]:
    """Rates per key; ``key`` returns the groups a message belongs to (an A/B-tested message
    belongs to one arm per split)."""
    groups: dict[Any, Rates] = {}
    for fact in facts:
        for group in key(fact):
            groups.setdefault(group, Rates()).add(fact)
    return dict(sorted(groups.items(), key=lambda kv: str(kv[0])))


def by_journey(fact: MessageFacts) -> list[str]:
    return [fact.journey]


def by_node(fact: MessageFacts) -> list[tuple[str, str]]:
    return [(fact.journey, fact.node)]


def by_template(fact: MessageFacts) -> list[tuple[str, str, str]]:
    return [(fact.journey, fact.template, fact.channel)]


def by_arm(fact: MessageFacts) -> list[tuple[str, str, str]]:
    return [(fact.journey, split, arm) for split, arm in arms_of(fact.variant).items()]


def by_day(fact: MessageFacts) -> list[date]:
    return [fact.sent_on]

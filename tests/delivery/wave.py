"""A restock wave through the real engine and the sandbox: recipients sign up through
``restock.signup`` events (consent per channel), some opt out or unsubscribe afterwards,
some have Twilio's magic numbers; one ``inventory.changed`` enrolls them all; the dispatcher
then runs rounds on a virtual clock until every row is settled."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import func
from sqlmodel import Session, col, select

from journeykit.delivery.dispatch import send_due
from journeykit.delivery.providers.base import Senders
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Consent, Customer, MessageEvent, OutboxMessage
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.messaging.optout import record_sms_consent
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock

# 01:30 UTC: New York 20:30 (half an hour before quiet), Los Angeles 17:30, Seoul and Tokyo
# 10:30, London 01:30 (quiet until 09:00: the journey's window widens the 08:00 default).
WAVE_AT = pendulum.datetime(2027, 3, 2, 1, 30, tz="UTC")
SKU = "SOFA-1"

PLACES = [  # (timezone, country, phone prefix, digits)
    ("America/New_York", "US", "+1212555", 4),
    ("America/Los_Angeles", "US", "+1415555", 4),
    ("Asia/Seoul", "KR", "+8210", 8),
    ("Asia/Tokyo", "JP", "+8190", 8),
    ("Europe/London", "GB", "+447700", 6),
]


@dataclass
class Recipient:
    external_id: str
    email: str
    phone: str
    timezone: str
    country: str
    channels: list[str]
    sms_stop: bool = False  # texted STOP after signing up
    email_unsubscribed: bool = False
    magic: str | None = None  # a Twilio test number that fails permanently


def recipients(n: int) -> list[Recipient]:
    out = []
    for i in range(n):
        tz, country, prefix, digits = PLACES[i % len(PLACES)]
        channels = [["email"], ["sms"], ["email", "sms"]][i % 3]
        r = Recipient(
            external_id=f"W-{i}",
            email=f"w{i}@example.com",
            phone=f"{prefix}{i // len(PLACES):0{digits}d}",
            timezone=tz,
            country=country,
            channels=channels,
            sms_stop="sms" in channels and i % 17 == 0,
            email_unsubscribed="email" in channels and i % 19 == 0,
        )
        # Twilio's magic numbers are shared by many recipients here; suppression is per
        # address, so a STOP from one of them would silence them all: none of them texts STOP.
        if "sms" in channels and i % 97 == 1:
            r.magic, r.phone, r.sms_stop = "21610", "+15005550004", False
        elif "sms" in channels and i % 89 == 2:
            r.magic, r.phone, r.sms_stop = "21211", "+15005550001", False
        out.append(r)
    return out


@dataclass
class Wave:
    tmp_path: Path
    sandbox: SandboxServer
    size: int
    clock: VirtualClock = field(default_factory=lambda: VirtualClock(WAVE_AT - timedelta(days=1)))
    rounds: int = 0
    send_seconds: float = 0.0
    requests: int = 0

    def __post_init__(self) -> None:
        url = f"sqlite:///{self.tmp_path}/wave.db"
        upgrade(url)
        self.engine = make_engine(url)
        self.settings = Settings().with_changes(
            {
                "web.signing_secret": "wave-secret",
                "web.public_base_url": "https://jk.example",
                "sending.reconcile_after_seconds": 60,
            }
        )
        source = (PROJECT_ROOT / "journeys" / "restock.yaml").read_text()
        self.runtime = build_runtime(
            self.settings,
            engine=self.engine,
            clock=self.clock,
            book=JourneyBook.from_sources(source),
            owner="w",
        )
        self.people = recipients(self.size)

    def sign_up(self) -> None:
        now = self.clock.now()
        with session_scope(self.engine) as s:
            product = {"sku": SKU, "handle": "sofa", "title": "Sofa", "price_cents": 50000}
            self._emit(s, {"type": "product.upserted", "product": {**product, "inventory": 0}})
            for p in self.people:
                customer = {
                    "id": p.external_id,
                    "email": p.email,
                    "phone": p.phone,
                    "timezone": p.timezone,
                    "country": p.country,
                    "first_name": "Sam",
                }
                signup = {"type": "restock.signup", "customer": customer, "sku": SKU}
                self._emit(s, {**signup, "channels": p.channels})
        self.clock.advance(timedelta(hours=1))
        with session_scope(self.engine) as s:
            ids = dict(s.exec(select(Customer.external_id, Customer.id)).all())
            for p in self.people:
                cid = ids[p.external_id]
                if p.sms_stop:
                    record_sms_consent(s, customer_id=cid, granted=False, now=now, source="STOP")
                if p.email_unsubscribed:
                    s.add(
                        Consent(
                            customer_id=cid,
                            channel="email",
                            granted=False,
                            source="unsubscribe",
                            recorded_at=self.clock.now(),
                        )
                    )

    def _emit(self, session: Session, payload: dict[str, Any]) -> None:
        ingest_event(
            session,
            book=self.runtime.book,
            now=self.clock.now(),
            payload=payload,
            key=f"{payload['type']}:{payload.get('customer', {}).get('id', '')}",
            registry=self.runtime.registry,
        )

    def restock(self) -> None:
        self.clock.set(WAVE_AT)
        with session_scope(self.engine) as s:
            event = {"type": "inventory.changed", "sku": SKU, "quantity": self.size}
            self._emit(s, event)
        while claimed := claim_due(self.runtime, limit=1000):
            advance(self.runtime, claimed)

    def send(self, senders: Senders, *, limit: int = 1000, max_rounds: int = 400) -> None:
        """Dispatch rounds one virtual minute apart (jumping ahead when nothing is due) until
        no row is queued or sending."""
        started = time.perf_counter()
        for _ in range(max_rounds):
            self.deliver_events()
            report = send_due(self.runtime, senders, limit=limit)
            self.rounds += 1
            self.requests += report.requests
            pending = self.pending()
            if not pending:
                break
            nothing_due = report.claimed == 0 and report.reconciled == 0
            if nothing_due and pending["next_due"] and pending["next_due"] > self.clock.now():
                self.clock.set(pending["next_due"])
            else:
                self.clock.advance(timedelta(minutes=1))
        self.send_seconds = time.perf_counter() - started

    def pending(self) -> dict[str, Any]:
        with Session(self.engine) as s:
            open_rows = s.exec(
                select(func.count()).where(col(OutboxMessage.status).in_(["queued", "sending"]))
            ).one()
            next_due = s.exec(
                select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "queued")
            ).one()
        if not open_rows:
            return {}
        return {
            "open": open_rows,
            "next_due": pendulum.instance(next_due, tz="UTC") if next_due else None,
        }

    def deliver_events(self) -> None:
        """What SendGrid's Event Webhook would have stored by now: a ``processed`` event for
        every accepted personalization of a row still in ``sending`` (a fake at the webhook
        transport; the real route is the web app's)."""
        with session_scope(self.engine) as s:
            waiting = dict(
                s.exec(
                    select(OutboxMessage.key, OutboxMessage.id).where(
                        OutboxMessage.status == "sending", OutboxMessage.channel == "email"
                    )
                ).all()
            )
            if not waiting:
                return
            for m in self.sandbox.store.messages(provider="sendgrid"):
                key = m.custom_args.get("journeykit_key")
                if key in waiting:
                    event_id = f"processed:{m.id}"
                    exists = s.exec(
                        select(MessageEvent.id).where(MessageEvent.provider_event_id == event_id)
                    ).first()
                    if exists is None:
                        s.add(
                            MessageEvent(
                                provider_event_id=event_id,
                                outbox_id=waiting[key],
                                kind="processed",
                                at=self.clock.now(),
                                data={**m.custom_args, "sg_message_id": m.id, "email": m.to},
                            )
                        )

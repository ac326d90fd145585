"""Outbox tests: a migrated SQLite file in tmp_path, a virtual clock far from the wall clock
(so a reconcile that used it would ask the provider about the wrong day), real SDK senders
pointed at the module's sandbox, and helpers to write customers and outbox rows directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlmodel import Session, select

from journeykit.delivery.providers.base import Senders
from journeykit.delivery.providers.sendgrid import SendGridEmailSender
from journeykit.delivery.providers.twilio import TwilioSmsSender
from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Consent, Customer, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer
from journeykit.timing.clock import VirtualClock

START = pendulum.datetime(2027, 3, 1, 15, tz="UTC")  # a Monday; after the wall clock


class Outbox:
    """A runtime on a fresh database plus row helpers."""

    def __init__(
        self, tmp_path: Path, settings: dict[str, Any] | None = None, *, url: str | None = None
    ) -> None:
        url = url or f"sqlite:///{tmp_path}/outbox.db"
        upgrade(url)
        self.engine = make_engine(url)
        self.clock = VirtualClock(START)
        self.settings = Settings().with_changes(
            {"web.signing_secret": "s3cret", **(settings or {})}
        )
        self.runtime = Runtime(self.engine, self.clock, JourneyBook(), self.settings, owner="t")
        self._n = 0

    def customer(
        self, *, phone: str = "+15551230001", tz: str = "America/New_York", consent: bool = False
    ) -> int:
        self._n += 1
        with session_scope(self.engine) as s:
            c = Customer(
                external_id=f"C-{self._n}",
                email=f"c{self._n}@example.com",
                phone=phone,
                timezone=tz,
                created_at=self.clock.now(),
            )
            s.add(c)
            s.flush()
            for channel in ("email", "sms") if consent else ():  # marketing rows need it
                s.add(
                    Consent(
                        customer_id=c.id,  # type: ignore[arg-type]
                        channel=channel,
                        granted=True,
                        source="store",
                        recorded_at=self.clock.now(),
                    )
                )
            return int(c.id)  # type: ignore[arg-type]

    def row(
        self,
        channel: str = "sms",
        *,
        to: str = "+15551230001",
        body: str = "Your sofa is back",
        customer_id: int | None = None,
        decisions: list[dict[str, Any]] | None = None,
        expires_in: timedelta | None = None,
        html: str = "<p>Hello</p>",
    ) -> int:
        phone = to if channel == "sms" else "+15551230001"
        cid = customer_id or self.customer(phone=phone, consent=True)
        now = self.clock.now()
        content: dict[str, Any] = (
            {"body": body}
            if channel == "sms"
            else {"subject": "Back in stock", "html": html, "text": "Hello", "headers": {}}
        )
        self._n += 1
        with session_scope(self.engine) as s:
            r = OutboxMessage(
                key=f"1:n{self._n}:{channel}:1",
                journey="restock",
                node_id="alert",
                customer_id=cid,
                channel=channel,
                category="marketing",
                template="restock/back_in_stock",
                to_address=to,
                due_at=now,
                created_at=now,
                expires_at=now + expires_in if expires_in else None,
                content=content,
                decisions=decisions or [],
            )
            s.add(r)
            s.flush()
            return int(r.id)  # type: ignore[arg-type]

    def get(self, row_id: int) -> OutboxMessage:
        with Session(self.engine) as s:
            row = s.get(OutboxMessage, row_id)
            assert row is not None
            return row

    def consents(self, customer_id: int) -> list[Consent]:
        with Session(self.engine) as s:
            return list(s.exec(select(Consent).where(Consent.customer_id == customer_id)).all())

    def later(self, **kw: float) -> datetime:
        return self.clock.advance(pendulum.duration(**kw))


@pytest.fixture
def outbox(tmp_path: Path) -> Outbox:
    return Outbox(tmp_path)


def make_senders(box: SandboxServer, *, timeout_s: float = 10.0, **kw: Any) -> Senders:
    return Senders(
        email=SendGridEmailSender(
            box.sendgrid_api_key, box.url, from_email="shop@example.com", timeout_s=timeout_s
        ),
        sms=TwilioSmsSender(
            box.account_sid,
            box.auth_token,
            box.url,
            from_number="+15005550006",
            timeout_s=timeout_s,
        ),
        **kw,
    )


SendersFactory = Callable[..., Senders]

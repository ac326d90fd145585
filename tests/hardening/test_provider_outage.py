"""Both providers down for 25 minutes (virtual time) while a restock wave goes out at 20:40,
then back. Emails go out late but once; the reminder after the alert; SMS never inside the
recipient's quiet hours (21:00-09:00): the alert whose validity (4 h) ran out by morning is
marked expired, not sent."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pendulum
from journeykit_rigs.chaos.harness import next_due
from journeykit_rigs.chaos.workload import recipient, seed_restock_wave
from sqlmodel import Session, select

from journeykit.delivery.dispatch import send_due
from journeykit.delivery.providers.from_settings import build_senders
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock, to_utc

CUSTOMERS = 6
EVENING = pendulum.datetime(2026, 3, 2, 20, 40, tz="UTC")  # customers live in UTC


def tick(runtime: Runtime, senders: object) -> None:
    while ids := claim_due(runtime, limit=100):
        advance(runtime, ids)
    send_due(runtime, senders, limit=100)  # type: ignore[arg-type]


def test_outage_then_recovery(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/outage.db"
    upgrade(url)
    engine = make_engine(url)
    sandbox = SandboxServer().start()
    settings = Settings().with_changes({
        "database.url": url, "providers.sendgrid.base_url": sandbox.url,
        "providers.twilio.base_url": sandbox.url, "providers.timeout_seconds": 2.0,
        "web.public_base_url": "http://127.0.0.1:9",
    })  # fmt: skip
    clock = VirtualClock(EVENING)
    book = JourneyBook.from_dir(settings.journeys_dir)
    runtime = build_runtime(settings, engine=engine, clock=clock, book=book, owner="t")
    senders = build_senders(settings)
    clock.set(seed_restock_wave(engine, book, CUSTOMERS, start=EVENING))
    sandbox.stop()  # the outage: nothing listens on the providers' port
    try:
        while clock.now() < EVENING + timedelta(minutes=25):
            tick(runtime, senders)
            clock.advance(timedelta(minutes=1))
        assert sandbox.store.count() == 0
        with Session(engine) as session:
            rows = session.exec(select(OutboxMessage)).all()
        assert {r.status for r in rows} == {"queued"}, "an outage must not fail or lose a row"
        assert all(r.attempts >= 1 for r in rows)
        sandbox.start()  # providers back at 21:05
        while (due := next_due(engine, clock.now())) is not None:
            clock.set(max(due, clock.now()))
            tick(runtime, senders)
    finally:
        sandbox.stop()
    with Session(engine) as session:
        rows = list(session.exec(select(OutboxMessage)).all())
    emails = sandbox.store.messages(provider="sendgrid")
    texts = sandbox.store.messages(provider="twilio")
    keys = Counter(m.custom_args["journeykit_key"] for m in emails)
    assert keys and max(keys.values()) == 1, "an email went out twice"
    assert len(emails) == 2 * CUSTOMERS  # the late alert and the reminder, each once
    for i in range(CUSTOMERS):
        mine = [m for m in emails if m.to == recipient(i).email]
        subjects = [m.subject for m in mine]
        alert = next(r for r in rows if r.to_address == recipient(i).email and "back" in r.template)
        assert subjects[0] == alert.content["subject"], "the reminder overtook the alert"
    assert texts == [], "an SMS went out in quiet hours or after its validity"
    sms = [r for r in rows if r.channel == "sms"]
    assert len(sms) == CUSTOMERS and {r.status for r in sms} == {"expired"}
    sent_at = [to_utc(r.sent_at) for r in rows if r.channel == "email" and r.sent_at]
    assert min(sent_at) >= EVENING + timedelta(minutes=25)  # late, after the outage
    engine.dispose()

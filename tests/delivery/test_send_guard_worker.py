"""The simulator and the real worker agree (issue 15 §1, BRIEF R3): the restock alert SMS
held by quiet hours, then sold out at 03:00, is withdrawn by the real dispatcher's claim
(`send_due` against the sandbox) exactly as in the scenario
`tests/scenarios/R3_held_alert_sold_out_withdrawn.yaml`: nothing reaches the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
from journeykit_rigs import fixtures as testing
from sqlmodel import Session, select

from journeykit.delivery.dispatch import send_due
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import OutboxMessage
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock
from tests.delivery.conftest import make_senders

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox
CUSTOMER = {"id": "C-61", "phone": "+819011112222", "timezone": "Asia/Tokyo", "locale": "ja"}
PRODUCT = {"sku": "SOFA-1", "handle": "sofa", "title": "Sofa", "price_cents": 50000}


def test_worker_withdraws_the_held_alert_like_the_simulator(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    url = f"sqlite:///{tmp_path}/worker.db"
    upgrade(url)
    engine = make_engine(url)
    clock = VirtualClock(pendulum.datetime(2026, 1, 5, 3, tz="UTC"))  # 12:00 Tokyo
    source = (PROJECT_ROOT / "journeys" / "restock.yaml").read_text()
    settings = Settings().with_changes({"web.signing_secret": "s3cret"})
    runtime = build_runtime(
        settings, engine=engine, clock=clock, book=JourneyBook.from_sources(source), owner="w"
    )

    def emit(payload: dict[str, Any], key: str) -> None:
        with session_scope(engine) as s:
            ingest_event(
                s,
                book=runtime.book,
                now=clock.now(),
                payload=payload,
                key=key,
                registry=runtime.registry,
            )
        while ids := claim_due(runtime, limit=100):
            advance(runtime, ids)

    emit({"type": "product.upserted", "product": {**PRODUCT, "inventory": 0}}, "p")
    signup = {"type": "restock.signup", "customer": CUSTOMER, "sku": "SOFA-1", "channels": ["sms"]}
    emit(signup, "s")
    clock.set(pendulum.datetime(2026, 1, 6, 13, tz="UTC"))  # 22:00 Tokyo: quiet hours
    emit({"type": "inventory.changed", "sku": "SOFA-1", "quantity": 6}, "i1")
    senders = make_senders(sandbox)
    assert send_due(runtime, senders, limit=10).claimed == 0  # held until 09:00
    clock.set(pendulum.datetime(2026, 1, 6, 18, tz="UTC"))  # 03:00 Tokyo: sold out
    emit({"type": "inventory.changed", "sku": "SOFA-1", "quantity": 0}, "i2")
    clock.set(pendulum.datetime(2026, 1, 7, 0, tz="UTC"))  # 09:00 Tokyo
    report = send_due(runtime, senders, limit=10)
    assert (report.claimed, report.withdrawn) == (0, 1)
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage).where(OutboxMessage.node_id == "alert_sms")).one()
    assert row.status == "withdrawn" and row.error == "no longer true: variant.inventory > 0"
    assert sandbox.store.count() == 0
    engine.dispose()


def test_worker_rereads_the_wave_allotment_like_the_simulator(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    """`tests/scenarios/R3_wave_allotment_rechecked_at_claim.yaml` through the real
    dispatcher: four shoppers alerted for 5 units (emails at once, SMS held overnight), one
    unit left at 09:00 = an allotment of 3: three SMS reach the sandbox, the fourth is
    withdrawn."""
    url = f"sqlite:///{tmp_path}/worker.db"
    upgrade(url)
    engine = make_engine(url)
    clock = VirtualClock(pendulum.datetime(2026, 1, 5, 3, tz="UTC"))
    source = (PROJECT_ROOT / "journeys" / "restock.yaml").read_text()
    settings = Settings().with_changes({"web.signing_secret": "s3cret"})
    runtime = build_runtime(
        settings, engine=engine, clock=clock, book=JourneyBook.from_sources(source), owner="w"
    )

    def emit(payload: dict[str, Any], key: str) -> None:
        with session_scope(engine) as s:
            ingest_event(
                s, book=runtime.book, now=clock.now(), payload=payload, key=key,
                registry=runtime.registry,
            )  # fmt: skip
        while ids := claim_due(runtime, limit=100):
            advance(runtime, ids)

    emit({"type": "product.upserted", "product": {**PRODUCT, "inventory": 0}}, "p")
    for n in range(1, 5):
        shopper = {
            "id": f"A-0{n}", "email": f"a0{n}@example.com", "phone": f"+81901111000{n}",
            "timezone": "Asia/Tokyo", "locale": "ja",
        }  # fmt: skip
        signup = {"type": "restock.signup", "customer": shopper, "sku": "SOFA-1"}
        emit({**signup, "channels": ["email", "sms"]}, f"s{n}")
        clock.advance(pendulum.duration(minutes=1))
    clock.set(pendulum.datetime(2026, 1, 6, 13, tz="UTC"))  # 22:00 Tokyo: quiet hours for SMS
    emit({"type": "inventory.changed", "sku": "SOFA-1", "quantity": 5}, "i1")
    senders = make_senders(sandbox)
    first = send_due(runtime, senders, limit=10)
    assert (first.claimed, first.withdrawn) == (4, 0)  # the four emails; the SMS are held
    clock.set(pendulum.datetime(2026, 1, 6, 18, tz="UTC"))  # 03:00 Tokyo: one unit left
    emit({"type": "inventory.changed", "sku": "SOFA-1", "quantity": 1}, "i2")
    clock.set(pendulum.datetime(2026, 1, 7, 0, tz="UTC"))  # 09:00 Tokyo
    report = send_due(runtime, senders, limit=10)
    assert (report.claimed, report.withdrawn) == (3, 1)
    with Session(engine) as s:
        rows = s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.node_id == "alert_sms")
            .order_by(OutboxMessage.customer_id)  # type: ignore[arg-type]
        ).all()
    assert [r.status for r in rows][-1] == "withdrawn"  # the last to sign up
    assert "the allotment is used up (3 customers of sku:SOFA-1 within 12h)" in (
        rows[-1].error or ""
    )
    assert sandbox.store.count() == 7
    engine.dispose()

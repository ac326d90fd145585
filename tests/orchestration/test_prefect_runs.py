"""The flows on a real (ephemeral) Prefect server, a small SQLite database and the sandbox:
runs are named ``journey · subject`` / ``journey · N due`` / ``safety sweep · N due``,
tagged with journey, version and channel, leave a run artifact and a keyed funnel per
journey, and a provider error is a failed task run with a customer-safe cause. The only
module that starts a Prefect server for these checks (one ephemeral server per test
process)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pendulum
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from sqlmodel import select

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.settings import Settings
from journeykit.orchestration.flows import handle_event, journey_flow, sweep
from journeykit.orchestration.run_outcome import FAILED_SENDS, outcome_counts, run_in_process
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import build_runtime, use_runtime
from journeykit.timing.clock import VirtualClock

ROOT = Path(__file__).parents[2]
BAD_PHONE = "+15005550001"  # the sandbox answers Twilio 21211 (not a valid phone number)

PLACED = {
    "type": "order.placed",
    "customer": {
        "id": "C-77",
        "first_name": "Sam",
        "email": "sam@example.com",
        "phone": BAD_PHONE,
        "timezone": "UTC",
        "consent": {"email": True, "sms": True},
    },
    "order": {"number": "5001", "lines": [{"sku": "TEE-M", "quantity": 1}], "total_cents": 3200},
}
DELAYED = {
    "type": "order.delayed",
    "order_number": "5001",
    "ship_from": "2026-03-20T00:00:00Z",
    "ship_to": "2026-03-24T00:00:00Z",
    "reason": "The carrier missed the pickup.",
}


def run_id(state: Any) -> UUID:
    return state.state_details.flow_run_id


def play(runtime: Runtime, clock: VirtualClock) -> dict[str, UUID]:
    with session_scope(runtime.engine) as session:
        for product in demo_products():
            payload = {"type": "product.upserted", "product": product}
            ingest_event(
                session,
                book=runtime.book,
                now=clock.now(),
                payload=payload,
                registry=runtime.registry,
            )
    runs = {
        "placed": run_id(asyncio.run(handle_event(PLACED, key="e1", return_state=True))),
        "delayed": run_id(asyncio.run(handle_event(DELAYED, key="e2", return_state=True))),
    }
    clock.advance(timedelta(days=3, minutes=1))  # the offer expires
    runs["expired"] = run_id(run_in_process(sweep(return_state=True)))
    clock.advance(timedelta(days=1))  # the update is due
    runs["sweep"] = run_id(run_in_process(sweep(return_state=True)))
    one = journey_flow("delay_apology")
    runs["journey"] = run_id(asyncio.run(one(return_state=True)))
    return runs


@pytest.mark.prefect
def test_flow_runs_names_tags_artifacts_and_failures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    base = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {
                "providers.sendgrid.base_url": box.url,
                "providers.twilio.base_url": box.url,
                "database.url": url,
            }
        )
        clock = VirtualClock(pendulum.datetime(2026, 3, 2, 18, tz="UTC"))
        book = JourneyBook.from_dir(ROOT / "journeys")
        runtime = build_runtime(
            settings, engine=make_engine(url), clock=clock, book=book, owner="prefect-test"
        )
        use_runtime(lambda: runtime)
        try:
            runs = play(runtime, clock)
        finally:
            use_runtime(None)
            runtime.engine.dispose()
    version = book.version("delay_apology")[:8]
    with get_client(sync_client=True) as client:
        found = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=list(runs.values())))
        )
        by_id = {run.id: run for run in found}
        artifacts = client.read_artifacts()
        tasks = {
            key: client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[rid]))
            )
            for key, rid in runs.items()
        }

    named = {key: by_id[rid].name for key, rid in runs.items()}
    assert named == {
        "placed": "order.placed · order:5001 · nothing to do",
        "delayed": "delay_apology · order:5001",
        "expired": "safety sweep · 1 due · delay_apology",
        "sweep": "safety sweep · 1 due · delay_apology",
        "journey": "delay_apology · 0 due",
    }
    delayed_tags = set(by_id[runs["delayed"]].tags)
    assert {"journey:delay_apology", f"version:{version}", "channel:email", "channel:sms"} <= (
        delayed_tags
    )
    assert {"journey:delay_apology", f"version:{version}", "channel:email"} <= set(
        by_id[runs["sweep"]].tags
    )

    # each run's markdown artifact says what it moved and queued
    moves = [a for a in artifacts if a.type == "markdown" and (a.key or "").startswith("moves-")]
    run_notes = {a.flow_run_id: str(a.data) for a in moves}  # (an event run also has a story)
    delayed_note = run_notes[runs["delayed"]]
    assert "1 enrollments moved" in delayed_note
    assert "2 messages queued (email: 1, sms: 1)" in delayed_note
    assert "| order:5001 | apology_email | apology_sms |" in delayed_note
    assert "0 messages queued (none)" in run_notes[runs["expired"]]
    assert "1 messages queued (email: 1)" in run_notes[runs["sweep"]]
    assert "channel:email" not in by_id[runs["expired"]].tags

    # the journey's funnel is one keyed artifact, updated by each run
    funnels = [a for a in artifacts if a.key == "live-delay-apology"]
    latest = max(funnels, key=lambda a: a.created)
    rows = json.loads(latest.data) if isinstance(latest.data, str) else latest.data
    stages = {(r["stage"], r["where"]): r["count"] for r in rows}
    assert stages[("entered", "")] == 1
    assert stages[("sent", "email")] == 2  # the apology and the update
    assert stages[("completed", "")] == 1
    assert ("sent", "sms") not in stages  # the SMS failed at the provider

    # the provider error is a failed task run, without the customer's number
    failed = [t for t in tasks["delayed"] if t.state and t.state.is_failed()]
    assert [t.name for t in failed] == ["provider errors · sms · 1 messages"]
    message = failed[0].state.message or ""
    assert "21211" in message and BAD_PHONE not in message and "<phone>" in message
    groups = sorted(t.name for t in tasks["delayed"] if t.name.startswith("delay_apology."))
    # one task run per group: it runs on through the instant nodes after its own (the SMS,
    # the wait), in one transaction (engine/advance.py)
    assert groups == ["delay_apology.apology_email · 1 enrollments"]


@pytest.mark.prefect
def test_sweep_reconciles_ambiguous_sends_before_resending(tmp_path: Path) -> None:
    """Two SMS were left in ``sending`` by a worker that died mid-send: the provider got one
    of them. The next sweep marks that one sent (its SID found) and sends the other: each
    reaches the customer exactly once."""
    from journeykit.delivery.providers.base import SmsMessage
    from journeykit.delivery.providers.twilio import TwilioSmsSender
    from journeykit.foundation.models import Customer, OutboxMessage

    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    base = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {
                "providers.sendgrid.base_url": box.url,
                "providers.twilio.base_url": box.url,
                "database.url": url,
            }
        )
        clock = VirtualClock(pendulum.now("UTC"))
        runtime = build_runtime(
            settings, engine=make_engine(url), clock=clock, owner="reconcile-test"
        )
        arrived = TwilioSmsSender.from_settings(settings).send(
            SmsMessage(key="m-arrived", to="+12125550100", body="Your parka shipped (1)")
        )
        assert arrived.provider_id
        attempt = clock.now() - timedelta(minutes=10)
        with session_scope(runtime.engine) as session:
            customer = Customer(external_id="C-R", phone="+12125550100", created_at=attempt)
            session.add(customer)
            session.flush()
            for key, body in (("m-arrived", "Your parka shipped (1)"), ("m-lost", "Parka (2)")):
                session.add(
                    OutboxMessage(
                        key=key, journey="backorder", node_id="n", customer_id=customer.id or 0,
                        channel="sms", template="t", to_address="+12125550100",
                        status="sending", due_at=attempt, created_at=attempt,
                        last_attempt_at=attempt, attempts=1, content={"body": body},
                    )
                )  # fmt: skip
        clock.advance(timedelta(minutes=10))
        use_runtime(lambda: runtime)
        try:
            asyncio.run(sweep())
        finally:
            use_runtime(None)
        with session_scope(runtime.engine) as session:
            rows = {r.key: r for r in session.exec(select(OutboxMessage)).all()}
        received = [m.body for m in box.store.messages() if m.to == "+12125550100"]
        runtime.engine.dispose()
    assert rows["m-arrived"].status == "sent"
    assert rows["m-arrived"].provider_id == arrived.provider_id
    assert rows["m-lost"].status == "sent" and rows["m-lost"].provider_id
    assert sorted(received) == ["Parka (2)", "Your parka shipped (1)"]


@pytest.mark.prefect
def test_the_sweep_applies_stored_events_and_one_journey_sends_only_its_own(
    tmp_path: Path,
) -> None:
    """Events stored by a door whose Prefect run never started are applied by the sweep of
    all journeys (the safety net); a one-journey run sends only that journey's messages."""
    from journeykit.engine.advance import advance, claim_due
    from journeykit.foundation.models import InboxEvent, OutboxMessage
    from journeykit.service.event_inbox import apply_pending
    from journeykit.service.events import accept

    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    base = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {
                "providers.sendgrid.base_url": box.url,
                "providers.twilio.base_url": box.url,
                "database.url": url,
            }
        )
        clock = VirtualClock(pendulum.datetime(2026, 3, 2, 18, tz="UTC"))
        runtime = build_runtime(settings, engine=make_engine(url), clock=clock, owner="inbox-test")

        def store(payload: dict[str, Any], key: str) -> None:
            with session_scope(runtime.engine) as session:
                accept(session, payload=payload, key=key, source="test", now=clock.now())

        for product in demo_products():
            store({"type": "product.upserted", "product": product}, f"p:{product['sku']}")
        store(PLACED, "o1")
        store(DELAYED, "o2")
        # applied and advanced outside Prefect: the apology is queued, not sent yet
        touched = apply_pending(runtime).touched
        advance(runtime, claim_due(runtime, limit=10, ids=touched))
        store({"type": "order.shipped", "order_number": "5001"}, "o3")  # Prefect is away
        use_runtime(lambda: runtime)
        try:
            other = outcome_counts(run_in_process(journey_flow("restock")(return_state=True)))
            own_state = run_in_process(journey_flow("delay_apology")(return_state=True))
            own = outcome_counts(own_state)
            swept = outcome_counts(run_in_process(sweep(return_state=True)))
        finally:
            use_runtime(None)
        with session_scope(runtime.engine) as session:
            inbox = {row.key: row.status for row in session.exec(select(InboxEvent)).all()}
            channels = {row.channel: row.status for row in session.exec(select(OutboxMessage))}
        runtime.engine.dispose()
    assert other["sent"] == 0  # a restock run leaves the apology alone
    assert own["sent"] == 1 and channels["email"] == "sent"  # its own email (the SMS fails)
    assert own_state.is_failed() and own_state.name == FAILED_SENDS
    assert swept["events_applied"] == 1 and inbox["o3"] == "applied"
    assert set(inbox.values()) == {"applied"}

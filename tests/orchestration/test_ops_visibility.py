"""What ops see on a real (ephemeral) Prefect server: an event run that fails is named and
tagged after its subject; a run whose send failed ends ``Failed sends``, never plain
Completed; a run's moves artifact and a story artifact have keys; ``journeys deploy``'s
automations are created (and updated in place). One module for these checks (the server
takes 15–20 s to start)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from sqlmodel import Session

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Enrollment, JourneyVersion
from journeykit.foundation.settings import Settings
from journeykit.orchestration.automations import (
    ALERT_BLOCK,
    PREFIX,
    AlertTiming,
    ensure_automations,
)
from journeykit.orchestration.backlog import EVENT as BACKLOG_EVENT
from journeykit.orchestration.backlog import report_late_work
from journeykit.orchestration.flows import handle_event
from journeykit.orchestration.run_outcome import FAILED_SENDS
from journeykit.orchestration.story_artifact import publish_story
from journeykit.reports.story import customer_story
from journeykit.reports.story_markdown import story_markdown
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import current_runtime, use_runtime
from journeykit.timing.clock import VirtualClock

ROOT = Path(__file__).parents[2]
BAD_PHONE = "+15005550001"  # the sandbox answers Twilio 21211 (not a valid phone number)

PLACED = {
    "type": "order.placed",
    "customer": {"id": "C-88", "first_name": "Ana", "email": "ana@example.com",
                 "phone": BAD_PHONE, "timezone": "UTC", "consent": {"email": True, "sms": True}},
    "order": {"number": "6001", "lines": [{"sku": "TEE-M", "quantity": 1}], "total_cents": 900},
}  # fmt: skip
DELAYED = {"type": "order.delayed", "order_number": "6001", "reason": "The carrier missed it.",
           "ship_from": "2026-03-20T00:00:00Z", "ship_to": "2026-03-24T00:00:00Z"}  # fmt: skip
UNKNOWN = {"type": "order.delayed", "order_number": "6999", "reason": "late"}


def client_run_tags(run_id: Any) -> set[str]:
    with get_client(sync_client=True) as client:
        return set(client.read_flow_run(run_id).tags)


@pytest.mark.prefect
def test_event_runs_and_artifacts_ops_can_find(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    base = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    clock = VirtualClock(pendulum.datetime(2026, 3, 2, 18, tz="UTC"))
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {
                "providers.sendgrid.base_url": box.url,
                "providers.twilio.base_url": box.url,
                "database.url": url,
            }
        )
        book = JourneyBook.from_dir(ROOT / "journeys")
        runtime = Runtime(make_engine(url), clock, book, settings, owner="ops-test")
        with session_scope(runtime.engine) as session:
            for product in demo_products():
                payload = {"type": "product.upserted", "product": product}
                ingest_event(session, book=runtime.book, now=clock.now(), payload=payload)
        use_runtime(lambda: runtime)
        try:
            placed: Any = asyncio.run(handle_event(PLACED, key="o1", return_state=True))
            delayed: Any = asyncio.run(handle_event(DELAYED, key="o2", return_state=True))
            failed: Any = asyncio.run(handle_event(UNKNOWN, key="o3", return_state=True))
            with Session(runtime.engine) as session:
                story = customer_story(session, "ana@example.com")
        finally:
            use_runtime(None)
            runtime.engine.dispose()
    # the apology SMS went to a number the provider refused: the run says so in red
    assert delayed.is_failed() and delayed.name == FAILED_SENDS
    assert "1 sends failed" in (delayed.message or "")
    assert placed.is_completed()
    # an order.delayed for an order we never heard of waits in the inbox (it applies once the
    # order.placed arrives): nothing failed, and its run still names its subject
    assert failed.is_completed()
    publish_story(story.key, story_markdown(story), description=story.title)

    with get_client(sync_client=True) as client:
        bad = client.read_flow_run(failed.state_details.flow_run_id)
        good = client.read_flow_run(placed.state_details.flow_run_id)
        artifacts = client.read_artifacts()
    # a run that moved nothing still says what it was about
    assert bad.name == "order.delayed · order:6999 · waiting"
    assert "order:6999" in bad.tags
    assert {"order:6001", "customer:C-88"} <= set(good.tags)
    # order.delayed names only the order: the customer's tag comes from the order
    late = client_run_tags(delayed.state_details.flow_run_id)
    assert {"order:6001", "customer:C-88", "journey:delay_apology"} <= late
    assert not any("@" in tag for tag in good.tags)
    keys = {a.key for a in artifacts}
    assert "moves-journeykit-event" in keys
    assert "story-order-6001" in keys  # each event run updates its subject's story
    assert "story-order-6999" not in keys  # no such order: no story
    assert story.key in keys
    [stored] = [a for a in artifacts if a.key == story.key]
    assert "order.placed" in str(stored.data) and "| when | kind | what | detail |" in str(
        stored.data
    )
    assert all(a.key for a in artifacts if a.flow_run_id == good.id)


@pytest.mark.prefect
def test_deploy_creates_the_automations_once_and_they_notify_through_the_block() -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.events.actions import ChangeFlowRunState, DoNothing, SendNotification

    with get_client(sync_client=True) as client:
        names, notifying = ensure_automations(client, AlertTiming())
        assert len(names) == 4 and not notifying
        created = [a for a in client.read_automations() if a.name.startswith(PREFIX)]
        assert sorted(a.name for a in created) == sorted(names)
        stuck = next(a for a in created if "stuck" in a.name)
        assert isinstance(stuck.actions[0], ChangeFlowRunState)
        assert stuck.trigger.within.total_seconds() == 90  # type: ignore[union-attr]
        assert all(isinstance(a.actions[-1], DoNothing) for a in created)

        CustomWebhookNotificationBlock(name="ops", url="http://127.0.0.1:9/alert").save(
            ALERT_BLOCK, overwrite=True
        )
        names, notifying = ensure_automations(client, AlertTiming(backlog_minutes=15))
        assert notifying
        again = [a for a in client.read_automations() if a.name.startswith(PREFIX)]
        assert len(again) == 4  # updated in place, not duplicated
        for automation in again:
            note = automation.actions[-1]
            assert isinstance(note, SendNotification)
            assert "{{ flow_run|ui_url }}" in note.body or "worker" in note.body
        late = next(a for a in again if "late" in a.name)
        # reactive on the event every run emits when due work is older than the setting,
        # at most once per journey per period, with the journey, the age and the run
        assert late.trigger.within.total_seconds() == 15 * 60  # type: ignore[union-attr]
        assert late.trigger.expect == {BACKLOG_EVENT}  # type: ignore[union-attr]
        assert late.trigger.posture == "Reactive"  # type: ignore[union-attr]
        assert late.trigger.for_each == {"prefect.resource.id"}  # type: ignore[union-attr]
        note = late.actions[-1]
        assert isinstance(note, SendNotification)
        assert "{{ event.payload.age_minutes }}" in note.body and "ui_url" in note.body


@flow(name="backlog-check")
async def backlog_check() -> int:
    return len(report_late_work(current_runtime()))


def backlog_events(client: SyncPrefectClient) -> list[dict[str, Any]]:
    found = client.request(
        "POST", "/events/filter", json={"filter": {"event": {"name": [BACKLOG_EVENT]}}}
    )
    found.raise_for_status()
    events: list[dict[str, Any]] = found.json()["events"]
    return events


@pytest.mark.prefect
def test_a_run_that_finds_late_work_emits_the_event_the_alert_reacts_to(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    clock = VirtualClock(pendulum.datetime(2026, 3, 2, 9, 30, tz="UTC"))
    runtime = Runtime(make_engine(url), clock, JourneyBook(), Settings(), owner="backlog-test")
    with session_scope(runtime.engine) as session:
        session.add(JourneyVersion(hash="r", journey="restock", source="", created_at=clock.now()))
        session.flush()
        late = clock.now() - timedelta(minutes=20)  # a wake-up missed 20 minutes ago
        session.add(
            Enrollment(
                journey="restock", version="r", subject_type="sku", subject_key="sku:TEE-M",
                node_id="wave", status="waiting", wake_at=late, entered_at=late, updated_at=late,
            )
        )  # fmt: skip
    use_runtime(lambda: runtime)
    try:
        state: Any = asyncio.run(backlog_check(return_state=True))
    finally:
        use_runtime(None)
        runtime.engine.dispose()
    assert state.result() == 1
    run_id = str(state.state_details.flow_run_id)
    with get_client(sync_client=True) as client:
        deadline = time.monotonic() + 30  # the server records events asynchronously
        events = backlog_events(client)
        while not events and time.monotonic() < deadline:
            time.sleep(0.5)
            events = backlog_events(client)
    [event] = events
    assert event["resource"]["prefect.resource.id"] == "journeykit.backlog.restock"
    assert event["payload"]["age_minutes"] == 20.0
    assert event["payload"]["enrollments"] == 1 and event["payload"]["messages"] == 0
    # related to the run that saw it: the alert's {{ flow_run|ui_url }} links to it
    related = {r["prefect.resource.id"] for r in event["related"]}
    assert f"prefect.flow-run.{run_id}" in related

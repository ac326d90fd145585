"""``journeys worker`` (orchestration/event_worker.py): a poll that finds events runs them as
one in-process flow run named and tagged by their subject, applies them in acceptance order,
advances what they touched and sends what that queued; an empty poll creates no run; on
PostgreSQL two workers never hold one subject; the real process exits 0 on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterId,
)
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.engine.advance import claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import InboxEvent, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.orchestration.event_worker import Batch, EventWorker, prefect_api_up
from journeykit.sandbox.server import SandboxServer
from journeykit.service.event_inbox import SubjectLocks, apply_pending
from journeykit.service.events import accept
from journeykit.service.runtime_factory import build_runtime, use_runtime
from journeykit.timing.clock import VirtualClock

ROOT = Path(__file__).parents[2]

CUSTOMER = {
    "id": "C-91",
    "first_name": "Ada",
    "email": "ada@example.com",
    "timezone": "UTC",
    "consent": {"email": True},
}
PLACED = {
    "type": "order.placed",
    "customer": CUSTOMER,
    "order": {"number": "7001", "lines": [{"sku": "TEE-M", "quantity": 1}], "total_cents": 3200},
}
DELAYED = {
    "type": "order.delayed",
    "order_number": "7001",
    "ship_from": "2026-03-20T00:00:00Z",
    "ship_to": "2026-03-24T00:00:00Z",
    "reason": "The carrier missed the pickup.",
}


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a fresh SQLite database with the demo catalog applied, sending to the
    sandbox, injected for flow runs; the order's two events accepted, nothing applied."""
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
        built = build_runtime(
            settings,
            engine=make_engine(url),
            clock=clock,
            book=JourneyBook.from_dir(ROOT / "journeys"),
            owner="event-worker-test",
        )
        with session_scope(built.engine) as session:
            for product in demo_products():
                ingest_event(
                    session,
                    book=built.book,
                    now=clock.now(),
                    payload={"type": "product.upserted", "product": product},
                    registry=built.registry,
                )
            # accepted back to back, as the door stores them; nothing applied yet
            for key, event in (("w1", PLACED), ("w2", DELAYED)):
                accept(session, payload=event, key=key, source="api", now=clock.now())
        use_runtime(lambda: built)
        try:
            yield built
        finally:
            use_runtime(None)
            built.engine.dispose()


def inbox_and_outbox(runtime: Runtime) -> tuple[list[InboxEvent], dict[str, str]]:
    with Session(runtime.engine) as session:
        inbox = list(session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all())
        sent = {m.node_id: m.status for m in session.exec(select(OutboxMessage)).all()}
    return inbox, sent


@pytest.mark.prefect
def test_a_poll_runs_its_events_as_one_named_run_and_sends(runtime: Runtime) -> None:
    worker = EventWorker(runtime)
    try:
        batch = worker.poll()
        assert batch is not None
        assert batch.subjects == ["order:7001"]
        assert batch.name == "order #7001 · order.placed"  # renamed once it moved
        worker.release(batch)
        state: Any = asyncio.run(worker.run_once())
        empty = asyncio.run(worker.run_once())
    finally:
        worker.close()
    inbox, statuses = inbox_and_outbox(runtime)

    assert empty is None  # an empty poll: no run
    assert state.is_completed(), state.message
    assert [(row.type, row.status) for row in inbox] == [
        ("order.placed", "applied"),
        ("order.delayed", "applied"),
    ]
    assert inbox[0].event_id is not None and inbox[1].event_id is not None
    assert inbox[0].event_id < inbox[1].event_id  # applied in acceptance order
    assert statuses == {"apology_email": "sent", "apology_sms": "suppressed"}  # no phone
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        )
    assert tasks and all(not task.tags for task in tasks)  # tags on the run only: no leases
    assert run.name == "delay_apology · order:7001"
    assert {"order:7001", "customer:C-91", "journey:delay_apology", "channel:email"} <= set(
        run.tags
    )


class SeenWhenSent(threading.Event):
    """A batch's ``sent`` that notes, when it is set, what the database and Prefect hold."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.outbox: dict[str, str] | None = None
        self.stories: int | None = None

    def set(self) -> None:
        if self.outbox is None:
            self.outbox = inbox_and_outbox(self.runtime)[1]
            self.stories = stories_published()
        super().set()


def stories_published() -> int:
    """Versions of the order's story artifact on the server (earlier tests' included)."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["story-order-7001"]))
        )
    return len(found)


@pytest.mark.prefect
def test_a_batch_frees_its_slot_once_sent_before_it_publishes(runtime: Runtime) -> None:
    """The worker takes the next events once a batch's messages are sent: its artifacts
    (the order's story, the moves) are published after, without holding its subjects."""
    before = stories_published()
    worker = EventWorker(runtime)
    batch = worker.poll()
    assert batch is not None
    batch.sent = seen = SeenWhenSent(runtime)
    try:
        state: Any = worker.execute(batch)
    finally:
        worker.release(batch)
        worker.close()
    assert state.is_completed(), state.message
    assert seen.outbox == {"apology_email": "sent", "apology_sms": "suppressed"}
    assert seen.stories == before  # not published yet when the slot was freed
    assert stories_published() > before  # published by the end of the run


@pytest.mark.prefect
def test_without_prefect_a_batch_applies_and_advances_then_a_takeover_sends(
    runtime: Runtime,
) -> None:
    """The Prefect API away (a server restart): the batch runs without a flow run and
    queues what it would send (the rate limits live on the server); once the API answers,
    a worker's takeover sends what waited queued."""

    async def away() -> bool:
        return False

    worker = EventWorker(runtime, prefect_up=away, poll_seconds=1.0)
    try:
        counts = asyncio.run(worker.run_once())
        inbox, statuses = inbox_and_outbox(runtime)
        assert worker.without_prefect == 1
        assert counts["events_applied"] == 2 and counts["moves"] == 3
        assert [row.status for row in inbox] == ["applied", "applied"]
        assert statuses == {"apology_email": "queued", "apology_sms": "suppressed"}

        worker.prefect_up = prefect_api_up
        runtime.clock.advance(timedelta(seconds=6))  # type: ignore[attr-defined]
        assert worker.stale_messages() == ["delay_apology"]
        state: Any = asyncio.run(worker.take_over_stale())
    finally:
        worker.close()
    assert state.is_completed(), state.message
    assert inbox_and_outbox(runtime)[1]["apology_email"] == "sent"


def test_due_work_nobody_claimed_is_taken_over(runtime: Runtime) -> None:
    """A worker killed between applying events and advancing what they touched: once the
    enrollments have waited ``takeover_after_seconds`` unclaimed, a worker takes them."""
    touched = apply_pending(runtime, subjects=["order:7001"]).touched
    assert touched
    worker = EventWorker(runtime, takeover_after_seconds=5)
    try:
        assert worker.stale_due() == []  # just due: the applying worker's to advance
        runtime.clock.advance(timedelta(seconds=6))  # type: ignore[attr-defined]
        assert worker.stale_due() == touched
        claim_due(runtime, limit=10, ids=touched)  # another worker claims them: not stale
        assert worker.stale_due() == []
    finally:
        worker.close()


def test_a_batch_is_named_after_its_one_event_or_its_subjects() -> None:
    one = InboxEvent(key="k", subject="order:7001", type="order.delayed", body=DELAYED)
    assert Batch(["order:7001"], [one]).name == "order #7001 · order.delayed"
    other = InboxEvent(key="k2", subject="sku:X", type="inventory.changed", body={})
    assert Batch(["order:7001", "sku:X"], [one, other]).name == "2 events · order:7001 +1 subjects"


@pytest.mark.postgres
def test_two_workers_never_hold_one_subject(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    first, second = SubjectLocks(engine), SubjectLocks(engine)
    try:
        assert first.take(["order:1", "order:2"]) == ["order:1", "order:2"]
        assert second.take(["order:2", "order:3"]) == ["order:3"]
        first.release(["order:2"])
        assert second.take(["order:2"]) == ["order:2"]
        second.close()  # a worker that stops releases all it held
        assert first.take(["order:3", "order:2"]) == ["order:3", "order:2"]
        first._connection.invalidate()  # type: ignore[union-attr]  # a worker that dies
        assert second_worker_takes(engine, ["order:3", "order:2"]) == ["order:3", "order:2"]
    finally:
        first.close()
        second.close()
        engine.dispose()


def second_worker_takes(engine: Any, subjects: list[str]) -> list[str]:
    """What another worker can take, once the server has seen the dead one's connection end
    (it ends its backend a moment later: a bounded retry, no timing asserted)."""
    for _ in range(100):
        locks = SubjectLocks(engine)
        try:
            taken = locks.take(subjects)
        finally:
            locks.close()
        if taken == subjects:
            break
        time.sleep(0.1)
    return taken


def test_the_worker_process_exits_0_on_sigterm(tmp_path: Path) -> None:
    journeys = Path(sys.executable).with_name("journeys")
    env = {
        **os.environ,
        "JOURNEYKIT_DATABASE__URL": f"sqlite:///{tmp_path}/jk.db",
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    process = subprocess.Popen(
        [str(journeys), "worker", "--poll-seconds", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()  # printed once the loop runs
        assert "polling the event inbox" in first_line, first_line
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)  # a bound on the wait, not a measured time
        rest = process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, rest
    assert "stopped after 0 batches" in rest

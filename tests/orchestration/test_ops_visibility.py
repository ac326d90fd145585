"""What ops see on a real (ephemeral) Prefect server: an event run that fails is named and
tagged after its subject; a run's moves artifact and a story artifact have keys. One module
for these checks (the server takes 15–20 s to start)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pendulum
import pytest
from prefect.client.orchestration import get_client
from sqlmodel import Session

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.settings import Settings
from journeykit.orchestration.flows import handle_event
from journeykit.orchestration.story_artifact import publish_story
from journeykit.reports.story import customer_story
from journeykit.reports.story_markdown import story_markdown
from journeykit.service.runtime_factory import use_runtime
from journeykit.timing.clock import VirtualClock

ROOT = Path(__file__).parents[2]

PLACED = {
    "type": "order.placed",
    "customer": {"id": "C-88", "first_name": "Ana", "email": "ana@example.com",
                 "timezone": "UTC", "consent": {"email": True}},
    "order": {"number": "6001", "lines": [{"sku": "TEE-M", "quantity": 1}], "total_cents": 900},
}  # fmt: skip
UNKNOWN = {"type": "order.delayed", "order_number": "6999", "reason": "late"}


@pytest.mark.prefect
def test_event_runs_and_artifacts_ops_can_find(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    settings = Settings().with_changes(
        {
            "journeys_dir": ROOT / "journeys",
            "templates.dir": ROOT / "templates",
            "database.url": url,
        }
    )
    clock = VirtualClock(pendulum.datetime(2026, 3, 2, 18, tz="UTC"))
    runtime = Runtime(make_engine(url), clock, JourneyBook.from_dir(ROOT / "journeys"), settings,
                      owner="ops-test")  # fmt: skip
    with session_scope(runtime.engine) as session:
        for product in demo_products():
            payload = {"type": "product.upserted", "product": product}
            ingest_event(session, book=runtime.book, now=clock.now(), payload=payload)
    use_runtime(lambda: runtime)
    try:
        placed: Any = asyncio.run(handle_event(PLACED, key="o1", return_state=True))
        failed: Any = asyncio.run(handle_event(UNKNOWN, key="o2", return_state=True))
        with Session(runtime.engine) as session:
            story = customer_story(session, "ana@example.com")
    finally:
        use_runtime(None)
        runtime.engine.dispose()
    assert failed.is_failed()
    publish_story(story.key, story_markdown(story), description=story.title)

    with get_client(sync_client=True) as client:
        bad = client.read_flow_run(failed.state_details.flow_run_id)
        good = client.read_flow_run(placed.state_details.flow_run_id)
        artifacts = client.read_artifacts()
    # a run that failed before it moved anything still says what it was about
    assert bad.name == "order #6999 · order.delayed"
    assert "order:6999" in bad.tags
    assert {"order:6001", "customer:C-88"} <= set(good.tags)
    assert not any("@" in tag for tag in good.tags)
    keys = {a.key for a in artifacts}
    assert "moves-journeykit-event" in keys
    assert story.key in keys
    [stored] = [a for a in artifacts if a.key == story.key]
    assert "order.placed" in str(stored.data) and "| when | kind | what | detail |" in str(
        stored.data
    )
    assert all(a.key for a in artifacts if a.flow_run_id == good.id)

"""The scheduled report run (deployment ``reports``) on a real ephemeral Prefect server: every
journey with enrollments, demand and backorder are published as keyed markdown artifacts
carrying the page's numbers and its charts."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import pendulum
import pytest
import yaml
from prefect.client.orchestration import get_client

from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine
from journeykit.foundation.settings import Settings
from journeykit.orchestration.report_flow import publish_reports
from journeykit.service.runtime_factory import build_runtime, use_runtime
from journeykit.timing.clock import VirtualClock
from tests.reports.conftest import ROOT
from tests.reports.seeded_store import seed_store


@pytest.mark.prefect
def test_report_run_publishes_keyed_markdown_artifacts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/seeded.db"
    seed_store(url)
    settings = Settings(journeys_dir=ROOT / "journeys", templates={"dir": ROOT / "templates"})
    clock = VirtualClock(pendulum.datetime(2026, 3, 10, tz="UTC"))
    runtime = build_runtime(
        settings,
        engine=make_engine(url),
        clock=clock,
        book=JourneyBook.from_dir(ROOT / "journeys"),
        owner="t",
    )
    use_runtime(lambda: runtime)
    try:
        published = asyncio.run(publish_reports())
    finally:
        use_runtime(None)
        runtime.engine.dispose()
    assert published == {
        "abandoned_cart": "report-abandoned-cart",
        "delay_apology": "report-delay-apology",
        "restock": "report-restock",
        "demand": "report-demand",
        "backorder": "report-backorder",
    }
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts()
        latest = {a.key: a for a in artifact if a.key}
    cart = str(latest["report-abandoned-cart"].data)
    assert "**Attributed revenue**: €40.00 + $75.00" in cart
    assert "**second_message**: not enough data yet" in cart
    charts = re.findall(r"!\[([\w-]+)\]\(data:image/svg\+xml;base64,([^)]+)\)", cart)
    assert [name for name, _ in charts] == ["funnel", "daily", "arms-second_message"]
    assert base64.b64decode(charts[0][1]).startswith(b"<svg")
    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    reports = next(d for d in deployments if d["name"] == "reports")
    assert reports["entrypoint"] == "flows/reports.py:publish_reports"
    assert reports["schedules"]

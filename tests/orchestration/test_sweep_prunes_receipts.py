"""The Prefect sweep of all journeys deletes idempotency receipts older than
``web.receipt_retention_seconds`` (its housekeeping); a one-journey sweep leaves them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from sqlmodel import Session, select

from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import ApiReceipt
from journeykit.foundation.settings import Settings
from journeykit.orchestration.flows import sweep
from journeykit.service.runtime_factory import build_runtime, use_runtime
from journeykit.timing.clock import VirtualClock
from journeykit.web.store_events import keep_receipt

ROOT = Path(__file__).parents[2]


@pytest.mark.prefect
def test_sweep_prunes_old_receipts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    settings = Settings().with_changes(
        {
            "database.url": url,
            "journeys_dir": ROOT / "journeys",
            "web.receipt_retention_seconds": 24 * 3600,
        }
    )
    clock = VirtualClock(pendulum.datetime(2026, 3, 2, 18, tz="UTC"))
    runtime = build_runtime(
        settings,
        engine=make_engine(url),
        clock=clock,
        book=JourneyBook.from_dir(ROOT / "journeys"),
        owner="t",
    )
    with session_scope(runtime.engine) as session:
        for age in (48, 25, 23, 1):
            keep_receipt(session, f"api:{age}h", "h", {}, clock.now() - timedelta(hours=age))
    use_runtime(lambda: runtime)
    try:
        one = asyncio.run(sweep(journey="restock"))
        everything = asyncio.run(sweep())
        with Session(runtime.engine) as session:
            left = sorted(r.key for r in session.exec(select(ApiReceipt)).all())
    finally:
        use_runtime(None)
        runtime.engine.dispose()
    assert "receipts_pruned" not in one
    assert everything["receipts_pruned"] == 2
    assert left == ["api:1h", "api:23h"]

"""Report tests read a real SQLite database filled through the engine: scenario files are
played (ingest_event, the sweep's advance) with every shipped journey on a virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from journeykit.authoring.simulate.play import play, schedule, seed_catalog
from journeykit.authoring.simulate.runner import DEFAULT_START, advance_due
from journeykit.authoring.simulate.scenario import load_scenario
from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock

ROOT = Path(__file__).parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"


def fill_database(url: str, paths: list[Path]) -> None:
    upgrade(url)
    engine = make_engine(url)
    scenarios = [(path.stem, load_scenario(path)) for path in paths]
    start = min(s.start or DEFAULT_START for _, s in scenarios)
    end = max((s.start or DEFAULT_START) + s.until for _, s in scenarios)
    clock = VirtualClock(start)
    settings = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    book = JourneyBook.from_dir(ROOT / "journeys")
    runtime = build_runtime(settings, engine=engine, clock=clock, book=book, owner="test")
    try:
        seed_catalog(runtime, [s for _, s in scenarios], start)
        steps = [
            item
            for name, scenario in scenarios
            for item in schedule([(name, scenario)], scenario.start or DEFAULT_START)
        ]
        steps.sort(key=lambda s: (s.at, s.key))
        errors = play(runtime, clock, steps, end, advance_due)
        assert errors == []
    finally:
        engine.dispose()


@pytest.fixture
def played(tmp_path: Path) -> Callable[..., str]:
    """``played("R4_demand_report", ...)`` -> the URL of a database those scenarios filled."""

    def fill(*names: str) -> str:
        url = f"sqlite:///{tmp_path}/report.db"
        fill_database(url, [SCENARIOS / f"{name}.yaml" for name in names])
        return url

    return fill

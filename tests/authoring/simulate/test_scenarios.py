"""Every scenario under tests/scenarios runs through the real engine on a virtual clock; its
``expect`` list is the whole timeline, in order, each entry matching on the fields it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from journeykit.authoring.simulate.runner import simulate
from journeykit.authoring.simulate.scenario import load_scenario
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings

ROOT = Path(__file__).parents[3]
SETTINGS = Settings().with_changes(
    {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
)
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def book() -> JourneyBook:
    return JourneyBook.from_dir(ROOT / "journeys")


def mismatch(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> str | None:
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        wrong = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}
        if wrong:
            return f"entry {index}: " + ", ".join(
                f"{k} expected {w!r}, got {g!r}" for k, (w, g) in wrong.items()
            )
    if len(expected) != len(actual):
        return f"expected {len(expected)} entries, got {len(actual)}"
    return None


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(path: Path, book: JourneyBook, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.expect is not None, f"{path.name} has no expect list"
    assert scenario.journey, f"{path.name} names no journey"
    result = simulate(scenario, book.only(scenario.journey), settings=SETTINGS, workdir=tmp_path)
    assert result.errors == []
    timeline = [entry.public() for entry in result.timeline]
    problem = mismatch(scenario.expect, timeline)
    shown = "\n".join(str(e) for e in timeline)
    assert problem is None, f"{path.name}: {problem}\ntimeline:\n{shown}"

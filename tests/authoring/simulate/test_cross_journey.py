"""Journeys about the same subject see each other's effects: cancelling an order from the
delay apology takes it out of the backorder sequence too."""

from __future__ import annotations

from pathlib import Path

from journeykit.authoring.simulate.runner import simulate
from journeykit.authoring.simulate.scenario import load_scenario
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings

ROOT = Path(__file__).parents[3]


def test_cancel_from_delay_apology_exits_backorder(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "journeykit" / "demo" / "scenarios" / "3_delay_kenta.yaml")
    book = JourneyBook.from_dir(ROOT / "journeys")
    result = simulate(scenario, book, settings=Settings(), workdir=tmp_path)
    assert result.errors == []
    cancelled_at = next(e.at for e in result.timeline if e.kind == "action" and e.node == "cancel")
    later_backorder = [
        e for e in result.timeline if e.kind == "send" and e.at > cancelled_at
        and e.template and e.template.startswith("backorder/")
    ]  # fmt: skip
    assert later_backorder == []
    statuses = {(e["journey"], e["status"]) for e in result.enrollments}
    assert ("backorder", "exited") in statuses

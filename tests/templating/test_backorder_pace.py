"""B3: the first backorder email announces the pace the journey keeps (long waits: about
every cadence_days; short ones: status changes only), and the check-ins after the nurture
series say what is known now (weeks waited, where the window stands), never a copy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum

from journeykit.authoring.preview import PREVIEW_NOW, render_messages
from journeykit.authoring.sample import PreviewInput
from journeykit.authoring.simulate.runner import simulate
from journeykit.authoring.simulate.scenario import load_scenario
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings

ROOT = Path(__file__).parents[2]
SETTINGS = Settings().with_changes(
    {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
)
BOOK = JourneyBook.from_dir(ROOT / "journeys")


def thank_you(weeks: int, locale: str = "en") -> str:
    order = {
        "ship_from": (PREVIEW_NOW + timedelta(weeks=weeks - 1)).isoformat(),
        "ship_to": (PREVIEW_NOW + timedelta(weeks=weeks)).isoformat(),
    }
    (message,) = render_messages(
        BOOK.get("backorder"),
        SETTINGS,
        PreviewInput(subject={"order": order}),
        only="thank_you",
        locale=locale,
    )
    assert message.error is None
    return str(message.content["text"])


def test_first_email_announces_the_pace_of_a_long_backorder() -> None:
    cadence = BOOK.get("backorder").settings["cadence_days"]
    assert f"about every {cadence} days" in thank_you(weeks=10)
    assert f"{cadence}日に1回" in thank_you(10, "ja")
    assert f"{cadence}일에 한 번" in thank_you(10, "ko")


def test_first_email_of_a_short_backorder_promises_status_changes_only() -> None:
    text = thank_you(weeks=2)
    assert "about every" not in text and "only email you when" in text


def test_check_ins_are_not_copies_of_each_other() -> None:
    scenario = load_scenario(ROOT / "tests" / "scenarios" / "B3_long_backorder_cadence.yaml")
    result = simulate(scenario, BOOK.only("backorder"), settings=SETTINGS)
    assert result.errors == []
    subjects = [e.detail for e in result.timeline if e.node == "check_in"]
    assert len(subjects) >= 2
    assert len(set(subjects)) == len(subjects), subjects


def test_a_check_in_after_the_window_says_it_passed() -> None:
    placed = pendulum.datetime(2026, 1, 5, tz="UTC")
    order = {
        "ship_from": (placed - timedelta(days=10)).isoformat(),
        "ship_to": (placed - timedelta(days=3)).isoformat(),
    }
    (message,) = render_messages(
        BOOK.get("backorder"),
        SETTINGS,
        PreviewInput(subject={"order": order}),
        only="check_in",
        now=placed,
    )
    assert "running late" in str(message.content["subject"])
    assert "window has passed" in str(message.content["text"])

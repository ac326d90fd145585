from __future__ import annotations

from datetime import timedelta

import pytest

from journeykit.language.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("1w 2d", timedelta(days=9)),
        ("90s", timedelta(seconds=90)),
        ("P3DT4H", timedelta(days=3, hours=4)),
        ("pt30m", timedelta(minutes=30)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "3x", "soon", "P", "99999999999999999d", "-3d"])
def test_bad_durations_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_round_trips() -> None:
    for delta in (timedelta(days=9), timedelta(hours=3, minutes=30), timedelta(seconds=5)):
        assert parse_duration(format_duration(delta)) == delta

"""Quiet hours: known cases around DST, and properties over many zones and transitions."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.timing.quiet_hours import (
    DEFAULT_SMS_QUIET,
    QUIET_BY_COUNTRY,
    is_quiet,
    next_allowed,
    union,
    window_for,
)
from journeykit.timing.waits import first_offset_change, zone

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Seoul",
    "Asia/Kolkata",
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",  # DST transitions at local midnight
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Asia/Tokyo",
    "Europe/Berlin",
    "America/St_Johns",
    "Asia/Kathmandu",
    "UTC",
]
NIGHT = (time(21), time(8))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@lru_cache
def transitions(name: str) -> tuple[datetime, ...]:
    """The zone's offset transitions in 2024–2027 (found day by day, then bisected)."""
    tz, found = zone(name), []
    day = utc(2024, 1, 1)
    while day < utc(2028, 1, 1):
        following = day + timedelta(days=1)
        if day.astimezone(tz).utcoffset() != following.astimezone(tz).utcoffset():
            found.append(first_offset_change(tz, day, following))
        day = following
    return tuple(found)


def test_transitions_are_found() -> None:
    assert len(transitions("America/New_York")) == 8
    assert len(transitions("Australia/Lord_Howe")) == 8
    assert transitions("Asia/Seoul") == ()


@pytest.mark.parametrize(
    ("at", "tz", "window", "expected"),
    [
        # allowed: unchanged
        (utc(2026, 1, 5, 15), "America/New_York", NIGHT, utc(2026, 1, 5, 15)),
        # 22:00 KST -> 08:00 KST next day
        (utc(2026, 1, 5, 13), "Asia/Seoul", NIGHT, utc(2026, 1, 5, 23)),
        # 07:59 local (before end, same day)
        (utc(2026, 1, 5, 12, 59), "America/New_York", NIGHT, utc(2026, 1, 5, 13)),
        # exactly 21:00 is quiet; exactly 08:00 is allowed
        (utc(2026, 1, 6, 2), "America/New_York", NIGHT, utc(2026, 1, 6, 13)),
        (utc(2026, 1, 6, 13), "America/New_York", NIGHT, utc(2026, 1, 6, 13)),
        # a window that does not wrap midnight
        (utc(2026, 1, 5, 17, 30), "America/New_York", (time(12), time(13)), utc(2026, 1, 5, 18)),
        # Kolkata +05:30
        (utc(2026, 1, 5, 16), "Asia/Kolkata", NIGHT, utc(2026, 1, 6, 2, 30)),
        # spring forward, end time in the gap (02:30 does not exist): the transition 03:00 EDT
        (utc(2026, 3, 8, 6), "America/New_York", (time(21), time(2, 30)), utc(2026, 3, 8, 7)),
        # spring forward, ordinary night: 08:00 EDT is 12:00 UTC
        (utc(2026, 3, 8, 3), "America/New_York", NIGHT, utc(2026, 3, 8, 12)),
        # fall back: 01:30 happens twice; from before both, the earlier (EDT) one
        (utc(2026, 11, 1, 4), "America/New_York", (time(21), time(1, 30)), utc(2026, 11, 1, 5, 30)),
        # ...from inside the second pass (01:10 EST), the later one
        (
            utc(2026, 11, 1, 6, 10),
            "America/New_York",
            (time(21), time(1, 30)),
            utc(2026, 11, 1, 6, 30),
        ),
        # the fall-back transition jumps out of a 01:30–02:00 window (01:59 EDT -> 01:00 EST)
        (utc(2026, 11, 1, 5, 45), "America/New_York", (time(1, 30), time(2)), utc(2026, 11, 1, 6)),
        # Lord Howe spring forward 02:00 -> 02:30 (+10:30 -> +11): 02:15 is in the gap
        (
            utc(2026, 10, 3, 15),
            "Australia/Lord_Howe",
            (time(0), time(2, 15)),
            utc(2026, 10, 3, 15, 30),
        ),
        # empty window
        (utc(2026, 1, 5, 3), "America/New_York", (time(9), time(9)), utc(2026, 1, 5, 3)),
    ],
)
def test_known_cases(at: datetime, tz: str, window: tuple[time, time], expected: datetime) -> None:
    result = next_allowed(at, tz, *window)
    assert result == expected
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)
    assert isinstance(result, pendulum.DateTime)


def test_is_quiet_boundaries() -> None:
    assert is_quiet(utc(2026, 1, 6, 2), "America/New_York", *NIGHT)  # 21:00
    assert not is_quiet(utc(2026, 1, 6, 1, 59), "America/New_York", *NIGHT)  # 20:59
    assert is_quiet(utc(2026, 1, 6, 12, 59), "America/New_York", *NIGHT)  # 07:59
    assert not is_quiet(utc(2026, 1, 6, 13), "America/New_York", *NIGHT)  # 08:00


def test_unknown_zone_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        next_allowed(utc(2026, 1, 5), "Mars/Olympus_Mons", *NIGHT)


def test_country_windows() -> None:
    assert window_for("US", "sms") == QUIET_BY_COUNTRY["US"] == NIGHT
    assert window_for("kr", "sms") == NIGHT
    assert window_for("JP", "sms") == NIGHT
    assert window_for("ZZ", "sms") == DEFAULT_SMS_QUIET
    assert window_for(None, "sms") == DEFAULT_SMS_QUIET
    assert window_for("US", "email") is None
    assert window_for("US", "email", (time(22), time(7))) == (time(22), time(7))
    # a journey can widen the legal SMS window, never narrow it
    assert window_for("US", "sms", (time(20), time(9))) == (time(20), time(9))
    assert window_for("US", "sms", (time(22), time(7))) == NIGHT
    assert window_for("US", "sms", (time(7), time(10))) == (time(21), time(10))


def test_union() -> None:
    assert union((time(12), time(13)), (time(12, 30), time(14))) == (time(12), time(14))
    assert union((time(9), time(9)), NIGHT) == NIGHT
    with pytest.raises(ValueError, match="do not overlap"):
        union(NIGHT, (time(12), time(13)))
    with pytest.raises(ValueError, match="whole day"):
        union(NIGHT, (time(7), time(22)))


WINDOWS = st.sampled_from(
    [
        NIGHT,
        (time(22), time(7)),
        (time(12), time(13)),
        (time(20), time(2)),
        (time(23), time(1)),
        (time(0), time(2, 30)),
        (time(1), time(3)),
        (time(1, 30), time(2)),
        (time(2, 15), time(8)),
        (time(21), time(2, 15)),
        (time(21), time(1, 45)),
        (time(2, 30), time(2, 10)),  # almost all day
    ]
) | st.tuples(st.integers(0, 1439), st.integers(0, 1439)).map(
    lambda pair: (time(pair[0] // 60, pair[0] % 60), time(pair[1] // 60, pair[1] % 60))
)


@st.composite
def instants(draw: st.DrawFn) -> tuple[datetime, str]:
    name = draw(st.sampled_from(ZONES))
    near = transitions(name)
    around_transition = draw(st.booleans())
    if near and around_transition:
        base = draw(st.sampled_from(near))
        offset = draw(st.integers(-36 * 3600, 36 * 3600))
    else:
        base, offset = utc(2024, 1, 1), draw(st.integers(0, 4 * 365 * 86400))
    return base + timedelta(seconds=offset, microseconds=draw(st.integers(0, 999_999))), name


@settings(max_examples=400, deadline=None)
@given(instants(), WINDOWS)
def test_next_allowed_properties(case: tuple[datetime, str], window: tuple[time, time]) -> None:
    at, tz = case
    start, end = window
    result = next_allowed(at, tz, start, end)
    assert result >= at
    assert not is_quiet(result, tz, start, end)
    assert next_allowed(result, tz, start, end) == result
    if result > at:
        assert is_quiet(at, tz, start, end)
        minute = at + timedelta(minutes=1)
        while minute < result:
            assert is_quiet(minute, tz, start, end), f"{minute} is allowed, before {result}"
            minute += timedelta(minutes=1)
    # at most a day and a little of quiet (longer only when a DST jump skips the allowed span)
    assert result <= at + timedelta(hours=49)

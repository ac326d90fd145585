"""Wait arithmetic: durations, local times of day and business days, across DST and year ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.timing.waits import (
    after_business_days,
    after_duration,
    is_business_day,
    local_instant,
    next_local_time,
    parse_hh_mm,
    zone,
)

NY = "America/New_York"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local(value: datetime, tz: str) -> pendulum.DateTime:
    return pendulum.instance(value).in_timezone(tz)


def test_after_duration_is_elapsed_time_across_dst() -> None:
    now = utc(2026, 3, 7, 15)  # 10:00 EST, the day before spring forward
    result = after_duration(now, timedelta(days=1))
    assert result == utc(2026, 3, 8, 15)
    assert local(result, NY).hour == 11  # the wall clock moved an hour more
    assert isinstance(result, pendulum.DateTime) and result.utcoffset() == timedelta(0)


def test_after_duration_reads_naive_as_utc_and_rejects_negative() -> None:
    assert after_duration(datetime(2026, 1, 1), timedelta(hours=2)) == utc(2026, 1, 1, 2)
    with pytest.raises(ValueError, match="negative"):
        after_duration(utc(2026, 1, 1), timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("now", "tz", "hh_mm", "expected"),
    [
        (utc(2026, 1, 5, 13), NY, "09:00", utc(2026, 1, 5, 14)),  # 08:00 -> 09:00 today
        (utc(2026, 1, 5, 14), NY, "09:00", utc(2026, 1, 6, 14)),  # strictly after now
        (utc(2026, 1, 5, 14, 0, 1), NY, "09:00", utc(2026, 1, 6, 14)),
        (utc(2027, 1, 1, 3), NY, "09:00", utc(2027, 1, 1, 14)),  # 22:00 Dec 31 -> Jan 1
        (utc(2026, 1, 31, 23), "Asia/Seoul", "07:30", utc(2026, 2, 1, 22, 30)),  # month end
        (utc(2026, 3, 8, 5), NY, "02:30", utc(2026, 3, 8, 7)),  # gap: 03:00 EDT
        (utc(2026, 3, 8, 5), NY, "09:00", utc(2026, 3, 8, 13)),  # 09:00 EDT
        (utc(2026, 11, 1, 4), NY, "01:30", utc(2026, 11, 1, 5, 30)),  # fold: earlier (EDT)
        (utc(2026, 11, 1, 5, 45), NY, "01:30", utc(2026, 11, 2, 6, 30)),  # once per day
        (utc(2026, 9, 5, 12), "America/Santiago", "00:30", utc(2026, 9, 6, 4)),  # midnight gap
        (utc(2026, 1, 5, 10), "Asia/Kolkata", "18:00", utc(2026, 1, 5, 12, 30)),
    ],
)
def test_next_local_time(now: datetime, tz: str, hh_mm: str, expected: datetime) -> None:
    assert next_local_time(now, tz, hh_mm) == expected


@pytest.mark.parametrize("bad", ["9:00", "24:00", "09:60", "0900", "", "noon"])
def test_bad_time_of_day(bad: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_hh_mm(bad)


def test_unknown_zone() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        next_local_time(utc(2026, 1, 5), "Nowhere/Special", "09:00")


def test_friday_evening_plus_one_business_day_is_monday_across_dst() -> None:
    now = utc(2026, 3, 7, 1)  # Friday 20:00 EST; DST starts on Sunday
    result = local(after_business_days(now, NY, 1), NY)
    assert (result.date(), result.hour, result.minute) == (date(2026, 3, 9), 20, 0)
    assert result.utcoffset() == timedelta(hours=-4)


def test_business_days_at_a_time_of_day() -> None:
    result = after_business_days(utc(2026, 3, 7, 1), NY, 1, at="09:00")
    assert result == utc(2026, 3, 9, 13)  # Monday 09:00 EDT


def test_business_days_use_the_customer_calendar() -> None:
    now = utc(2026, 1, 9, 23)  # Friday 23:00 UTC is Saturday 08:00 in Seoul
    result = local(after_business_days(now, "Asia/Seoul", 1), "Asia/Seoul")
    assert result.date() == date(2026, 1, 12)  # Monday (in UTC it is Friday + 1 = Monday too)
    now = utc(2026, 1, 8, 23)  # Thursday 23:00 UTC is Friday 08:00 in Seoul
    result = local(after_business_days(now, "Asia/Seoul", 1), "Asia/Seoul")
    assert (result.date(), result.hour) == (date(2026, 1, 12), 8)


def test_holidays_and_year_end() -> None:
    holidays = frozenset({date(2026, 12, 25), date(2027, 1, 1)})
    christmas_eve = utc(2026, 12, 24, 15)  # Thursday 10:00 EST
    assert local(after_business_days(christmas_eve, NY, 1, holidays=holidays), NY).date() == (
        date(2026, 12, 28)
    )
    new_years_eve = utc(2026, 12, 31, 15)  # Thursday
    result = after_business_days(new_years_eve, NY, 2, at="09:30", holidays=holidays)
    assert result == utc(2027, 1, 5, 14, 30)  # Mon Jan 4 is 1, Tue Jan 5 is 2


def test_business_day_in_a_gap() -> None:
    # Cairo springs forward on Friday 2026-04-24 at 00:00 -> 01:00
    now = utc(2026, 4, 22, 22, 30)  # Thursday 00:30 EET
    result = after_business_days(now, "Africa/Cairo", 1)
    assert result == utc(2026, 4, 23, 22)  # Friday 01:00 EEST, the first valid instant


def test_zero_business_days() -> None:
    saturday = utc(2026, 1, 10, 15)
    assert after_business_days(saturday, NY, 0, at="09:00") == utc(2026, 1, 12, 14)
    monday_early = utc(2026, 1, 12, 13)  # 08:00
    assert after_business_days(monday_early, NY, 0, at="09:00") == utc(2026, 1, 12, 14)
    monday_late = utc(2026, 1, 12, 15)  # 10:00
    assert after_business_days(monday_late, NY, 0, at="09:00") == utc(2026, 1, 13, 14)
    with pytest.raises(ValueError, match="negative"):
        after_business_days(monday_late, NY, -1)


def test_local_instant_fold_and_gap() -> None:
    tz = zone(NY)
    assert local_instant(date(2026, 11, 1), parse_hh_mm("01:30"), tz) == utc(2026, 11, 1, 5, 30)
    assert local_instant(date(2026, 3, 8), parse_hh_mm("02:30"), tz) == utc(2026, 3, 8, 7)


ZONES = st.sampled_from(
    [NY, "Europe/London", "Australia/Lord_Howe", "Asia/Seoul", "Asia/Kolkata",
     "Pacific/Chatham", "America/Santiago", "Africa/Cairo", "UTC"]
)  # fmt: skip
NOWS = st.integers(0, 3 * 365 * 86400).map(lambda s: utc(2025, 1, 1) + timedelta(seconds=s))
TIMES = st.tuples(st.integers(0, 23), st.integers(0, 59)).map(lambda hm: f"{hm[0]:02}:{hm[1]:02}")


@settings(max_examples=300, deadline=None)
@given(NOWS, ZONES, TIMES)
def test_next_local_time_properties(now: datetime, tz: str, hh_mm: str) -> None:
    result = next_local_time(now, tz, hh_mm)
    assert now < result <= now + timedelta(hours=49)
    wall = local(result, tz)
    if wall.format("HH:mm") != hh_mm:  # only in a gap: the clock jumped over hh_mm
        before = local(result - timedelta(seconds=1), tz)
        assert before.utcoffset() != wall.utcoffset()
        assert before.format("HH:mm") < hh_mm < wall.format("HH:mm") or wall.hour < before.hour


@settings(max_examples=300, deadline=None)
@given(NOWS, ZONES, st.integers(1, 30), st.none() | TIMES)
def test_business_days_properties(now: datetime, tz: str, days: int, at: str | None) -> None:
    holidays = frozenset({date(2026, 1, 1), date(2026, 12, 25), date(2027, 1, 1)})
    result = after_business_days(now, tz, days, at=at, holidays=holidays)
    assert result > now
    start, end = local(now, tz).date(), local(result, tz).date()
    assert is_business_day(end, holidays)
    counted = sum(
        is_business_day(start + timedelta(days=i), holidays)
        for i in range(1, (end - start).days + 1)
    )
    assert counted == days

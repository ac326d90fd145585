"""Ship windows are calendar dates in the store's zone, the same for every reader; deadlines
carry their time and zone; one formatter for emails, SMS and pages (babel)."""

from __future__ import annotations

from datetime import date, datetime

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from journeykit.templating.filters import (
    calendar_day,
    format_deadline,
    format_money,
    format_window,
)
from journeykit.templating.urls import with_query

ZONES = st.sampled_from(
    [
        "UTC",
        "America/Los_Angeles",
        "America/New_York",
        "Europe/London",
        "Asia/Seoul",
        "Asia/Tokyo",
        "Pacific/Honolulu",
        "Pacific/Kiritimati",
    ]
)
DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


@given(DAYS, ZONES)
def test_midnight_utc_and_date_only_values_are_the_day_they_name(day: date, store: str) -> None:
    midnight = pendulum.datetime(day.year, day.month, day.day, tz="UTC")
    assert calendar_day(day, store) == day
    assert calendar_day(day.isoformat(), store) == day  # "2026-03-02" is accepted
    assert calendar_day(midnight, store) == day  # never a day early west of UTC
    assert calendar_day(midnight.isoformat(), store) == day


@given(DAYS, DAYS, ZONES, st.sampled_from(["en", "ko", "ja"]))
def test_a_window_reads_the_same_for_every_reader(
    first: date, last: date, store: str, locale: str
) -> None:
    as_dates = format_window(first, last, "yMMMd", locale, store)
    as_midnights = format_window(
        pendulum.datetime(first.year, first.month, first.day, tz="UTC"),
        pendulum.datetime(last.year, last.month, last.day, tz="UTC"),
        "yMMMd",
        locale,
        store,
    )
    assert as_dates == as_midnights


def test_other_instants_are_the_day_in_the_store_zone() -> None:
    evening_ny = pendulum.datetime(2026, 3, 3, 2, tz="UTC")  # Mar 2, 21:00 in New York
    assert calendar_day(evening_ny, "America/New_York") == date(2026, 3, 2)
    assert calendar_day(evening_ny, "Asia/Seoul") == date(2026, 3, 3)


def test_window_is_a_readable_range() -> None:
    text = format_window(date(2026, 3, 2), date(2026, 3, 6), "yMMMd", "en", "UTC")
    assert text.replace("\u2009", " ") == "Mar 2 – 6, 2026"
    assert format_window(date(2026, 3, 2), date(2026, 3, 6), "yMMMd", "ko", "UTC") == (
        "2026년 3월 2일~6일"
    )


def test_deadline_has_time_and_zone() -> None:
    closes = pendulum.datetime(2026, 1, 10, 18, tz="UTC")  # 10:00 in Los Angeles
    en = format_deadline(closes, "en", "America/Los_Angeles").replace("\u202f", " ")
    assert en == "Jan 10, 2026, 10:00 AM PST"
    ko = format_deadline(closes, "ko", "Asia/Seoul")
    assert "오전" in ko or "오후" in ko  # 03:00 on Jan 11 in Seoul
    assert ko == "2026. 1. 11. 오전 3:00 대한민국 표준시"
    ja = format_deadline(closes, "ja", "Asia/Tokyo")
    assert ja == "2026/01/11 3:00 JST"


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)), ZONES)
def test_deadline_always_names_the_zone(moment: datetime, zone: str) -> None:
    aware = pendulum.instance(moment, tz="UTC")
    text = format_deadline(aware, "en", zone)
    assert text.split()[-1]  # the last word is the zone (PST, GMT+9, ...)
    assert any(ch.isdigit() for ch in text) and ":" in text


def test_money_is_the_same_formatter_for_pages() -> None:
    assert format_money(1250, "usd", "en") == "$12.50"
    assert format_money(12500, "KRW", "ko") == "₩12,500"


def test_discount_parameter_is_added_without_breaking_the_query() -> None:
    assert with_query("https://s.example/cart/A:1?storefront=true", "discount", "SAVE-1") == (
        "https://s.example/cart/A:1?storefront=true&discount=SAVE-1"
    )
    assert with_query("https://s.example/cart/A:1", "discount", "X Y") == (
        "https://s.example/cart/A:1?discount=X+Y"
    )

"""Phone numbers: E.164, the zones a number maps to, quiet hours across several zones."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

import phonenumbers
import pytest
from phonenumbers import timezone as phone_timezone

from journeykit.messaging.phone import (
    most_restrictive_next_allowed,
    normalize_e164,
    region_of,
    time_zones_for,
)
from journeykit.timing.quiet_hours import is_quiet

NIGHT = (time(21), time(8))


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "us", "+14155552671"),
        ("010-1234-5678", "KR", "+821012345678"),
        ("+82 10 1234 5678", "US", "+821012345678"),  # an explicit country code wins
        ("090-1234-5678", "JP", "+819012345678"),
        ("07400 123456", "GB", "+447400123456"),
    ],
)
def test_normalize(raw: str, region: str | None, expected: str) -> None:
    assert normalize_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("", None, "empty"),
        ("   ", "US", "empty"),
        ("555-2671", None, "no default region"),
        ("hello", "US", "not a phone number"),
        ("+1 415 555 267", None, "not a valid phone number"),
        ("+82 10 1234", None, "not a valid phone number for KR"),
    ],
)
def test_invalid_numbers_raise_clear_errors(raw: str, region: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalize_e164(raw, region)


def test_region_of() -> None:
    assert region_of("+14155552671") == "US"
    assert region_of("+821012345678") == "KR"


def test_time_zones() -> None:
    assert time_zones_for("+14155552671") == ["America/Los_Angeles"]
    assert time_zones_for("+821012345678") == ["Asia/Seoul"]
    toll_free = time_zones_for("+18005550199")
    assert len(toll_free) > 5 and "Etc/Unknown" not in toll_free
    assert toll_free == sorted(set(toll_free))
    assert time_zones_for("not a number") == []
    assert time_zones_for("+999 123") == []


def test_most_restrictive_is_allowed_everywhere() -> None:
    zones = ["America/New_York", "America/Los_Angeles"]
    # 06:00 Eastern = 03:00 Pacific: allowed in both only from 08:00 Pacific = 16:00 UTC
    at = datetime(2026, 1, 5, 11, tzinfo=UTC)
    due = most_restrictive_next_allowed(at, zones, *NIGHT)
    assert due == datetime(2026, 1, 5, 16, tzinfo=UTC)
    assert not any(is_quiet(due, zone, *NIGHT) for zone in zones)
    # 20:30 Eastern is allowed in both: unchanged
    at = datetime(2026, 1, 6, 1, 30, tzinfo=UTC)
    assert most_restrictive_next_allowed(at, zones, *NIGHT) == at


def test_zones_that_push_each_other_settle() -> None:
    # allowed 09:00–21:00 local: Seoul 00:00–12:00 UTC, New York 14:00–02:00 UTC. From
    # 02:30 UTC New York says 14:00 UTC, where Seoul is quiet until 00:00 UTC: a second pass
    zones = ["Asia/Seoul", "America/New_York"]
    window = (time(21), time(9))
    due = most_restrictive_next_allowed(datetime(2026, 1, 5, 2, 30, tzinfo=UTC), zones, *window)
    assert due == datetime(2026, 1, 6, tzinfo=UTC)
    assert not any(is_quiet(due, zone, *window) for zone in zones)


def test_disjoint_allowed_times_raise() -> None:
    zones = ["Asia/Seoul", "America/New_York"]  # 14 h apart; allowed 10:00–12:00 only
    with pytest.raises(ValueError, match="share no allowed time"):
        most_restrictive_next_allowed(datetime(2026, 1, 5, tzinfo=UTC), zones, time(12), time(10))


def test_no_zones_raise() -> None:
    with pytest.raises(ValueError, match="no time zones"):
        most_restrictive_next_allowed(datetime(2026, 1, 5, tzinfo=UTC), [], *NIGHT)


def _sample_numbers() -> list[str]:
    """Valid, invalid and unparsable numbers of several countries (a fixed sample)."""
    pick = random.Random(4)
    numbers = ["+14155552671", "+821012345678", "+819012345678", "+15555550100", "bad"]
    numbers += ["+447911123456", "+1204555019", "+999123", "+80012345678", "+88213123456"]
    for code in ["1", "82", "81", "44", "49", "7", "61", "33", "852", "800", "881"]:
        for _ in range(120):
            digits = "".join(pick.choice("0123456789") for _ in range(pick.randint(6, 11)))
            numbers.append(f"+{code}{digits}")
    return numbers


def test_region_and_zones_are_the_libraries_answers() -> None:
    """``region_of`` and ``time_zones_for`` find a number's region and type once: their
    answers are what phonenumbers' public functions give, number by number."""
    for raw in _sample_numbers():
        try:
            number = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            assert time_zones_for(raw) == []
            with pytest.raises(ValueError, match="is not a phone number"):
                region_of(raw)
            continue
        zones = phone_timezone.time_zones_for_number(number)
        assert time_zones_for(raw) == sorted({z for z in zones if z != "Etc/Unknown"}), raw
        if phonenumbers.is_valid_number(number):
            assert region_of(raw) == phonenumbers.region_code_for_number(number), raw
        else:
            with pytest.raises(ValueError, match="is not a valid phone number"):
                region_of(raw)

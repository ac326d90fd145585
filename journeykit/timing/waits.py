"""When a wait ends: pure functions of (now, the customer's zone). No clock is read here.

Every result is an aware UTC ``pendulum.DateTime``. Local wall times are turned into instants
with :func:`local_instant`: a time that does not exist (spring-forward gap) becomes the first
valid instant after it (the transition itself); a time that exists twice (fall-back fold) is
the earlier of the two.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import pendulum

from journeykit.timing.clock import to_utc

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``ValueError`` for an unknown name)."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_hh_mm(value: str) -> time:
    match = _HH_MM.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} is not a time of day: write 24-hour 'HH:MM', e.g. '09:30'")
    return time(int(match.group(1)), int(match.group(2)))


def _offset_at(tz: tzinfo, timestamp: int) -> timedelta | None:
    return datetime.fromtimestamp(timestamp, tz=tz).utcoffset()


def first_offset_change(tz: tzinfo, after: datetime, until: datetime) -> pendulum.DateTime:
    """The first instant in (after, until] where the zone's UTC offset differs from its offset
    at ``after``; the caller knows the offsets at both ends differ. Transitions fall on whole
    seconds, so this bisects over seconds."""
    lo, hi = math.floor(after.timestamp()), math.ceil(until.timestamp())
    before = _offset_at(tz, lo)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(tz, mid) == before:
            lo = mid
        else:
            hi = mid
    return pendulum.from_timestamp(hi, tz="UTC")


def local_instant(day: date, wall: time, tz: tzinfo) -> pendulum.DateTime:
    """The UTC instant of ``wall`` o'clock on local ``day``: the earlier one in a fold, the
    first valid instant after it in a gap."""
    naive = datetime.combine(day, wall)
    earlier = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if earlier.astimezone(tz).replace(tzinfo=None) == naive:
        return pendulum.instance(earlier)
    # In a gap, fold=0 reads the wall time with the offset before the transition and fold=1
    # with the offset after it; the transition lies between the two readings.
    later = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(earlier, later), max(earlier, later)
    return first_offset_change(tz, low, high)


def after_duration(now: datetime, delta: timedelta) -> pendulum.DateTime:
    """``now`` plus an exact duration (elapsed time, not wall-clock time)."""
    if delta < timedelta(0):
        raise ValueError(f"a wait cannot be negative ({delta})")
    return to_utc(now) + delta


def next_local_time(now: datetime, tz: str, hh_mm: str) -> pendulum.DateTime:
    """The next instant strictly after ``now`` when the wall clock in ``tz`` shows ``hh_mm``
    (once per local day: the earlier instant in a fold; after a gap, the transition)."""
    wall, zone_info, utc_now = parse_hh_mm(hh_mm), zone(tz), to_utc(now)
    today = utc_now.astimezone(zone_info).date()
    for offset in range(3):
        candidate = local_instant(today + timedelta(days=offset), wall, zone_info)
        if candidate > utc_now:
            return candidate
    raise AssertionError("unreachable: a local time of day recurs within two days")


def is_business_day(day: date, holidays: frozenset[date] = frozenset()) -> bool:
    return day.weekday() not in WEEKEND and day not in holidays


def after_business_days(
    now: datetime,
    tz: str,
    days: int,
    at: str | None = None,
    holidays: frozenset[date] = frozenset(),
) -> pendulum.DateTime:
    """The local day ``days`` business days after today (Saturdays, Sundays and ``holidays``
    are skipped, in the customer's calendar), at ``at`` or at the local time of day of
    ``now``. Friday evening + 1 business day is Monday. ``days=0`` means the first business
    day not before now (today when it is one and the time is still ahead)."""
    if days < 0:
        raise ValueError(f"business days cannot be negative ({days})")
    zone_info, utc_now = zone(tz), to_utc(now)
    local_now = utc_now.astimezone(zone_info)
    wall = parse_hh_mm(at) if at is not None else local_now.time().replace(tzinfo=None)
    day = local_now.date()
    if days == 0:
        while not is_business_day(day, holidays) or local_instant(day, wall, zone_info) < utc_now:
            day += timedelta(days=1)
        return local_instant(day, wall, zone_info)
    remaining = days
    while remaining:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            remaining -= 1
    return max(local_instant(day, wall, zone_info), utc_now)

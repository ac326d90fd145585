"""Quiet hours: local times of day when a channel must not reach the recipient. Pure
functions (no clock): the caller passes the instant.

A window ``(start, end)`` covers local wall times in ``[start, end)``; it wraps midnight when
``start > end`` (21:00–08:00) and is empty when ``start == end``. Whether an instant is quiet
depends only on the wall clock in the zone at that instant, so DST is handled by looking at
the wall clock: the window ends when the clock reaches ``end`` (the earlier time in a fold)
or when a DST transition jumps the clock out of the window (e.g. when ``end`` falls in a
spring-forward gap, the transition itself is the first allowed instant).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

import pendulum

from journeykit.timing.clock import to_utc
from journeykit.timing.waits import first_offset_change, zone

Window = tuple[time, time]

# Default for SMS where no country rule is listed: the strictest common rule (TCPA's).
DEFAULT_SMS_QUIET: Window = (time(21), time(8))

QUIET_BY_COUNTRY: dict[str, Window] = {
    # US: TCPA rules, 47 CFR § 64.1200(c)(1): no telephone solicitation "before the hour of
    # 8 a.m. or after 9 p.m. (local time at the called party's location)"; the FCC applies
    # the TCPA to text messages.
    "US": (time(21), time(8)),
    # KR: 정보통신망 이용촉진 및 정보보호 등에 관한 법률 (Network Act) art. 50(3): advertising
    # information sent between 21:00 and 08:00 the next day needs separate prior consent.
    "KR": (time(21), time(8)),
    # JP: no statute fixes hours for SMS (特定電子メール法 regulates consent and sender
    # labelling, not times); 21:00–08:00 is the common industry practice we adopt as a
    # conservative default, matching the telemarketing guidance on calls at night.
    "JP": (time(21), time(8)),
}

_SEARCH_STEPS = 8  # exits from one quiet stretch: end times and transitions; 3 suffice


def is_quiet(at: datetime, tz: str, start: time, end: time) -> bool:
    """Whether the wall clock in ``tz`` at instant ``at`` is inside ``[start, end)``."""
    return _quiet_wall(to_utc(at).astimezone(zone(tz)).time(), start, end)


def _quiet_wall(wall: time, start: time, end: time) -> bool:
    wall = wall.replace(tzinfo=None, fold=0)
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def _end_occurrences(day: date, end: time, tz: tzinfo) -> list[datetime]:
    """Every UTC instant on local ``day`` whose wall clock reads ``end`` (0, 1 or 2)."""
    naive = datetime.combine(day, end)
    found = []
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    return found


def _next_change(after: datetime, tz: tzinfo, end: time) -> datetime:
    """The first instant after ``after`` where quiet can turn allowed: the wall clock reaching
    ``end``, or an offset transition before that."""
    today = after.astimezone(tz).date()
    candidates = [
        instant
        for offset in range(-1, 3)
        for instant in _end_occurrences(today + timedelta(days=offset), end, tz)
        if instant > after
    ]
    reached = min(candidates)
    if after.astimezone(tz).utcoffset() != reached.astimezone(tz).utcoffset():
        return first_offset_change(tz, after, reached)
    return reached


def next_allowed(at: datetime, tz: str, start: time, end: time) -> pendulum.DateTime:
    """``at`` (aware UTC) when it is allowed, else the first allowed instant after it, in UTC.

    Usually the local ``end`` time on the right day; when that time does not exist (gap), the
    first valid instant after it; in a fold, the earlier occurrence that is not before ``at``.
    """
    zone_info, instant = zone(tz), to_utc(at)
    if start == end:
        return instant
    current: datetime = instant
    for _ in range(_SEARCH_STEPS):
        if not _quiet_wall(current.astimezone(zone_info).time(), start, end):
            return pendulum.instance(current).in_timezone("UTC")
        current = _next_change(current, zone_info, end)
    raise RuntimeError(f"no allowed time found after {at} in {tz} for {start}–{end}")


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _time(seconds: int) -> time:
    seconds %= 86400
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def union(a: Window, b: Window) -> Window:
    """The smallest single window covering both; ``ValueError`` when they neither overlap nor
    touch, or together cover the whole day."""
    arcs = [(_seconds(s), (_seconds(e) - _seconds(s)) % 86400) for s, e in (a, b)]
    arcs = [arc for arc in arcs if arc[1]]
    if len(arcs) < 2:
        return (_time(arcs[0][0]), _time(sum(arcs[0]))) if arcs else a
    for (s1, n1), (s2, n2) in (arcs, arcs[::-1]):
        into = (s2 - s1) % 86400
        if into <= n1:
            length = max(n1, into + n2)
            if length >= 86400:
                raise ValueError(f"quiet hours {a} and {b} together cover the whole day")
            return (_time(s1), _time(s1 + length))
    raise ValueError(f"quiet hours {a} and {b} do not overlap: cannot combine them")


def window_for(
    country: str | None,
    channel: Literal["email", "sms"] | str,
    journey_override: Window | None = None,
) -> Window | None:
    """The quiet window for a recipient in ``country`` on ``channel``, or None (no quiet
    hours). A journey's own window applies to any channel; for SMS it can only widen the
    legal one (the two are combined with :func:`union`)."""
    if channel == "sms":
        legal = QUIET_BY_COUNTRY.get((country or "").upper(), DEFAULT_SMS_QUIET)
        return union(legal, journey_override) if journey_override else legal
    return journey_override

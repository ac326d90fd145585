"""One clock, injected everywhere. ``SystemClock`` in production, ``VirtualClock`` in the
simulator and tests. Nothing else in the package calls ``now()``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import pendulum


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return pendulum.now("UTC")


class VirtualClock:
    """A clock that only moves when told to: ``advance`` and ``set``; never backwards."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = to_utc(start) if start else pendulum.datetime(2026, 1, 5, 9, tz="UTC")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a virtual clock never moves backwards")
        self._now = self._now + delta
        return self._now

    def set(self, when: datetime) -> datetime:
        when = to_utc(when)
        if when < self._now:
            raise ValueError(f"a virtual clock never moves backwards ({when} < {self._now})")
        self._now = when
        return self._now


def to_utc(value: datetime) -> pendulum.DateTime:
    """An aware UTC pendulum datetime; naive values are taken as UTC (SQLite drops tzinfo)."""
    if value.tzinfo is None:
        return pendulum.instance(value, tz="UTC")
    return pendulum.instance(value).in_timezone("UTC")


def aware(when: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def plain_utc(moment: datetime) -> datetime:
    """The same instant as a standard-library UTC ``datetime``: the clock gives pendulum
    datetimes, whose arithmetic (the driver's, a column type's UTC conversion, binding them)
    is Python called per value, ~5 µs each."""
    utc = moment.astimezone(UTC)
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )

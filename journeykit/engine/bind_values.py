"""Datetimes made plain UTC ``datetime`` objects before a group's executemany.

Every datetime column converts its bound value to UTC (``value.astimezone(UTC)``, in
SQLModel's type) before the driver sees it; for a pendulum ``DateTime`` that is a Python
call of ~5 µs, paid for each of a group's thousands of history, outbox and enrollment rows,
though they share a few instants (the group's ``now``). Each distinct object is converted
once here to the stdlib ``datetime`` of the same UTC instant, whose conversion is native: the
stored value is the same (SQLite's text, PostgreSQL's ``timestamptz``). A naive value is left
alone (the column type rejects it, as before)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


def plain_utc(rows: Iterable[dict[str, Any]], columns: tuple[str, ...]) -> None:
    """Replace, in place, the pendulum (or other ``datetime`` subclass) values of
    ``columns`` in ``rows`` by plain UTC datetimes of the same instant."""
    done: dict[int, tuple[datetime, datetime]] = {}  # id -> (the original, kept alive; plain)
    for row in rows:
        for name in columns:
            value = row.get(name)
            if value is None or type(value) is datetime or not isinstance(value, datetime):
                continue
            known = done.get(id(value))
            if known is None or known[0] is not value:
                if value.utcoffset() is None:
                    continue
                utc = value.astimezone(UTC)
                plain = datetime(
                    utc.year,
                    utc.month,
                    utc.day,
                    utc.hour,
                    utc.minute,
                    utc.second,
                    utc.microsecond,
                    tzinfo=UTC,
                )
                known = done[id(value)] = (value, plain)
            row[name] = known[1]

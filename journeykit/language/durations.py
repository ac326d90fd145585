"""Durations as marketers write them: ISO 8601 (``P3D``, ``PT2H``) or short forms
(``3d``, ``2h``, ``30m``, ``1w``, ``90s``, ``1w 2d``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, TypeAdapter

_SHORT = re.compile(
    r"^\s*(?:(\d+)\s*w)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$"
)
_ISO = TypeAdapter(timedelta)


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        text = value.strip()
        match = _SHORT.match(text.lower())
        if text and match and any(match.groups()):
            w, d, h, m, s = (int(g) if g else 0 for g in match.groups())
            try:
                return timedelta(weeks=w, days=d, hours=h, minutes=m, seconds=s)
            except OverflowError:
                raise ValueError(
                    f"{value!r} is too long a duration: waits are bounded (at most 999999999 days)"
                ) from None
        if text.upper().startswith("P"):
            try:
                return _ISO.validate_python(text.upper())
            except ValueError:
                pass
    raise ValueError(
        f"{value!r} is not a duration: write e.g. '3d', '12h', '30m', '2w' or ISO 8601 'P3DT4H'"
    )


def format_duration(delta: timedelta) -> str:
    """The short form, e.g. ``1w 2d`` or ``3h 30m``."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts) or "0s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]

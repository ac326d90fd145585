"""Phone numbers: E.164 normalisation and the zones a number may ring in (for quiet hours).

``phonenumbers`` validates numbers against the numbering plan; it cannot tell a mobile from a
landline for US numbers (both are FIXED_LINE_OR_MOBILE), so nothing here tries to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time
from functools import lru_cache

import pendulum
import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberType
from phonenumbers.phonenumberutil import (
    _number_type_helper,
    is_number_type_geographical,
    national_significant_number,
)
from phonenumbers.timezone import (
    _UNKNOWN_TIME_ZONE_LIST,
    _country_level_time_zones_for_number,
    time_zones_for_geographical_number,
)

from journeykit.timing.clock import to_utc
from journeykit.timing.quiet_hours import next_allowed

UNKNOWN_ZONE = "Etc/Unknown"
_SETTLE_STEPS = 16


def _parse(raw: str, default_region: str | None) -> phonenumbers.PhoneNumber:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("phone number is empty")
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        hint = "" if region else " (no default region: write it with +country code)"
        raise ValueError(f"{raw!r} is not a phone number: {exc._msg}{hint}") from exc
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_number(number) or f"+{number.country_code}"
        raise ValueError(f"{raw!r} is not a valid phone number for {where}")
    return number


def normalize_e164(raw: str, default_region: str | None = None) -> str:
    """``raw`` as E.164 (``+14155552671``). Numbers without ``+`` are read as national
    numbers of ``default_region`` (ISO 3166 alpha-2, e.g. ``US``). ``ValueError`` if invalid."""
    return phonenumbers.format_number(
        _parse(raw, default_region), phonenumbers.PhoneNumberFormat.E164
    )


# A send parses its recipient's number up to three times (quiet-hour zones, the law's
# country for the labels of an SMS and of an email): remembered for a batch's numbers.
_REMEMBERED = 4096


@lru_cache(maxsize=_REMEMBERED)
def _parsed(e164: str) -> phonenumbers.PhoneNumber | None:
    """``e164`` parsed without a default region, once for its zones and its country (the
    parse is most of either's cost); None when it does not parse. Never mutated."""
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None


@lru_cache(maxsize=_REMEMBERED)
def _typed(e164: str) -> tuple[phonenumbers.PhoneNumber, str | None, int] | None:
    """``e164`` parsed, its region and its number type, each found once: the library's
    ``is_valid_number``, ``number_type`` (inside ``time_zones_for_number``) and
    ``region_code_for_number`` each look the region up again (for a +1 number, a match
    against every NANPA region's patterns), most of a send's phone work. ``number_type``'s
    own steps, on the region found here (phonenumbers is pinned; ``tests/messaging/
    test_phone.py`` compares the answers with the library's public functions)."""
    number = _parsed(e164)
    if number is None:
        return None
    region = phonenumbers.region_code_for_number(number)
    # as ``number_type`` calls it (a parsed number has a country code; the region may be None)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(
        number.country_code,  # type: ignore[arg-type]
        region,  # type: ignore[arg-type]
    )
    if metadata is None:
        return number, region, PhoneNumberType.UNKNOWN
    return number, region, _number_type_helper(national_significant_number(number), metadata)


@lru_cache(maxsize=_REMEMBERED)
def region_of(e164: str) -> str | None:
    """The ISO country code of a number (``US``, ``KR``), or None."""
    typed = _typed(e164) if isinstance(e164, str) and e164.strip() else None
    # ``is_valid_number`` is exactly this check for the number's region: found once
    if (
        typed is None
        or typed[1] is None
        or not phonenumbers.is_valid_number_for_region(typed[0], typed[1])
    ):
        _parse(e164, None)  # raises the ValueError that says what is wrong
    assert typed is not None
    return typed[1]


def time_zones_for(e164: str) -> list[str]:
    """The IANA zones the number's prefix maps to (several for some area codes; the whole
    country's zones when the prefix is not geographic); [] when unknown or unparsable (the
    caller then uses the customer's own zone; the provider rejects a bad number)."""
    return list(_time_zones(e164))


@lru_cache(maxsize=_REMEMBERED)
def _time_zones(e164: str) -> tuple[str, ...]:
    """``phonenumbers.timezone.time_zones_for_number``'s steps, on the type found once."""
    typed = _typed(e164)
    if typed is None:
        return ()
    number, _, kind = typed
    if kind == PhoneNumberType.UNKNOWN:
        zones = _UNKNOWN_TIME_ZONE_LIST
    elif not is_number_type_geographical(kind, number.country_code):  # type: ignore[arg-type]
        zones = _country_level_time_zones_for_number(number)
    else:
        zones = time_zones_for_geographical_number(number)
    return tuple(sorted({name for name in zones if name != UNKNOWN_ZONE}))


def most_restrictive_next_allowed(
    at: datetime, zones: Iterable[str], start: time, end: time
) -> pendulum.DateTime:
    """The first instant at or after ``at`` allowed in every zone: the max of
    :func:`next_allowed` over the zones, repeated until it settles (one zone's next allowed
    time can fall in another's next quiet stretch). ``ValueError`` without zones, or when the
    zones share no allowed time."""
    names = list(dict.fromkeys(zones))
    if not names:
        raise ValueError("no time zones: cannot place quiet hours (use the customer's zone)")
    due = to_utc(at)
    for _ in range(_SETTLE_STEPS):
        moved = max(next_allowed(due, name, start, end) for name in names)
        if moved == due:
            return due
        due = moved
    raise ValueError(f"zones {names} share no allowed time outside {start}–{end}")

"""Template filters that format money, dates and times for the reader: in their locale (babel)
and their time zone (``customer.timezone``). The render context carries ``locale`` (a BCP 47
tag such as ``ko-KR``) and ``customer.timezone`` (an IANA name)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pendulum
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_interval, format_time
from babel.numbers import format_currency, get_currency_precision
from jinja2 import pass_context
from jinja2.runtime import Context

from journeykit.timing.waits import zone

FALLBACK_LOCALE = "en"
WEEKDAY_WIDTHS = {"wide": "EEEE", "abbreviated": "EEE", "short": "EEEEEE", "narrow": "EEEEE"}


@lru_cache(maxsize=256)
def babel_locale(tag: str | None) -> Locale:
    """The babel locale for a BCP 47 or POSIX tag (``ko-KR``, ``pt_BR``); English if unknown."""
    try:
        return Locale.parse((tag or FALLBACK_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(FALLBACK_LOCALE)


def _locale_tag(ctx: Context) -> str:
    return str(ctx.get("locale") or FALLBACK_LOCALE)


def _zone_name(ctx: Context) -> str:
    customer = ctx.get("customer")
    name = customer.get("timezone") if isinstance(customer, dict) else None
    return str(name or getattr(customer, "timezone", None) or "UTC")


@lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo:
    try:
        return zone(name)
    except ValueError:
        return zone("UTC")


def _instant(value: Any) -> datetime | date:
    """A ``date`` stays a calendar day; a datetime (naive = UTC) or ISO string is an instant."""
    if isinstance(value, str):
        value = pendulum.parse(value)
        if isinstance(value, pendulum.Date) and not isinstance(value, pendulum.DateTime):
            return date(value.year, value.month, value.day)
    if isinstance(value, datetime):
        return value if value.tzinfo else pendulum.instance(value, tz="UTC")
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__} {value!r}")


def _local_day(value: Any, tz: tzinfo) -> date:
    moment = _instant(value)
    return moment.astimezone(tz).date() if isinstance(moment, datetime) else moment


def _memo(function: Callable[..., str]) -> Callable[..., str]:
    """Cache a formatter on its (hashable) arguments: babel is slow and a batch of messages
    formats the same few dates and amounts over and over."""
    cached = lru_cache(maxsize=8192)(function)

    def call(*args: Any) -> str:
        try:
            hash(args)
        except TypeError:
            return function(*args)
        return cached(*args)

    return call


@_memo
def _money(cents: int | Decimal, code: str, tag: str) -> str:
    amount = Decimal(cents).scaleb(-get_currency_precision(code))
    return format_currency(amount, code, locale=babel_locale(tag))


@_memo
def _date(value: Any, format: str, tag: str, tz: str) -> str:
    return format_date(_local_day(value, _zone(tz)), format, locale=babel_locale(tag))


@_memo
def _datetime(value: Any, format: str | None, tag: str, tz: str) -> str:
    moment, zone_info, locale = _instant(value), _zone(tz), babel_locale(tag)
    if not isinstance(moment, datetime):
        return format_date(moment, format or "medium", locale=locale)
    if format is not None:
        return format_datetime(moment, format, tzinfo=zone_info, locale=locale)
    local = moment.astimezone(zone_info)
    pattern = str(locale.datetime_formats["medium"]).replace("'", "")
    return pattern.replace("{0}", format_time(local, "short", locale=locale)).replace(
        "{1}", format_date(local.date(), "medium", locale=locale)
    )


@_memo
def _daterange(start: Any, end: Any, skeleton: str, tag: str, tz: str) -> str:
    zone_info = _zone(tz)
    first, last = _local_day(start, zone_info), _local_day(end, zone_info)
    if last < first:
        first, last = last, first
    return format_interval(first, last, skeleton, locale=babel_locale(tag))


@pass_context
def money(ctx: Context, cents: Any, currency: str) -> str:
    """Minor units (cents, or won/yen for zero-decimal currencies) as a localized amount:
    ``1250 | money("USD")`` → ``$12.50``; ``12500 | money("KRW")`` → ``₩12,500``."""
    if isinstance(cents, bool) or not isinstance(cents, int | Decimal):
        raise TypeError(f"money expects an amount in minor units (int), got {cents!r}")
    return _money(cents, str(currency).upper(), _locale_tag(ctx))


@pass_context
def date_filter(ctx: Context, value: Any, format: str = "medium") -> str:
    """The day in the reader's zone and locale (``Mar 3, 2026``, ``2026. 3. 3.``)."""
    return _date(value, format, _locale_tag(ctx), _zone_name(ctx))


@pass_context
def datetime_filter(ctx: Context, value: Any, format: str | None = None) -> str:
    """Date and time in the reader's zone and locale; by default a medium date with a short
    time (``Mar 3, 2026, 9:00 AM``). A date without a time prints as a date."""
    return _datetime(value, format, _locale_tag(ctx), _zone_name(ctx))


@pass_context
def daterange(ctx: Context, start: Any, end: Any, skeleton: str = "yMMMd") -> str:
    """A range of days with shared parts written once (``Mar 3 – 7, 2026``,
    ``2026년 3월 3일~7일``); a single day when both ends fall on the same local day."""
    return _daterange(start, end, skeleton, _locale_tag(ctx), _zone_name(ctx))


@pass_context
def weekday(ctx: Context, value: Any, width: str = "wide") -> str:
    """The day of the week in the reader's zone and locale (``Tuesday``, ``화요일``)."""
    pattern = WEEKDAY_WIDTHS.get(width)
    if pattern is None:
        raise ValueError(f"weekday width must be one of {sorted(WEEKDAY_WIDTHS)}, not {width!r}")
    return _date(value, pattern, _locale_tag(ctx), _zone_name(ctx))


FILTERS = {
    "money": money,
    "date": date_filter,
    "datetime": datetime_filter,
    "daterange": daterange,
    "weekday": weekday,
}

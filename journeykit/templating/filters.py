"""Template filters that format money, dates and times for the reader: in their locale (babel)
and their time zone (``customer.timezone``). The render context carries ``locale`` (a BCP 47
tag such as ``ko-KR``), ``customer.timezone`` (an IANA name) and ``store.timezone``.

Ship and delivery windows (``daterange``) are *calendar dates in the store's zone*, the same
for every reader: a date-only value is that day, a value at midnight UTC is the calendar date
it names (how stores send a date as a timestamp), any other instant is the day it falls on in
the store's zone. A deadline (``deadline``) is an instant: date, time and zone of the reader.
The same functions (``format_*``) serve the web pages, so a page and an email agree."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pendulum
from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_time,
    get_timezone_name,
)
from babel.numbers import format_currency, get_currency_precision
from jinja2 import pass_context
from jinja2.runtime import Context

from journeykit.templating.urls import with_query
from journeykit.timing.waits import zone

FALLBACK_LOCALE = "en"
WIDE_DAY_PERIOD = frozenset({"ko"})  # 오전/오후, not AM/PM
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


def calendar_day(value: Any, store_zone: str) -> date:
    """The calendar day a window end names (see the module's docstring)."""
    moment = _instant(value)
    if not isinstance(moment, datetime):
        return moment
    utc = moment.astimezone(zone("UTC"))
    if (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0):
        return utc.date()
    return moment.astimezone(_zone(store_zone)).date()


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
    return pattern.replace("{0}", _short_time(local, locale)).replace(
        "{1}", format_date(local.date(), "medium", locale=locale)
    )


def _short_time(local: datetime, locale: Locale) -> str:
    """The locale's short time; where CLDR abbreviates the day period to AM/PM but readers
    write it in full (Korean: 오전/오후), the wide day period."""
    pattern = locale.time_formats["short"].pattern
    if locale.language in WIDE_DAY_PERIOD and "a" in pattern and "aaaa" not in pattern:
        pattern = pattern.replace("a", "aaaa")
    return format_time(local, pattern, locale=locale)


def _zone_label(local: datetime, locale: Locale) -> str:
    """The zone's short name where one is in use (PST, JST, GMT), else its long name
    (대한민국 표준시, Korean Standard Time), never a bare offset."""
    short = get_timezone_name(local, "short", locale=locale)
    if short[:1] not in "+-":
        return short
    return get_timezone_name(local, "long", locale=locale)


@_memo
def format_window(start: Any, end: Any, skeleton: str, tag: str, store_zone: str) -> str:
    """A window of calendar days, shared parts written once (``Mar 3 – 7, 2026``)."""
    first, last = calendar_day(start, store_zone), calendar_day(end, store_zone)
    if last < first:
        first, last = last, first
    return format_interval(first, last, skeleton, locale=babel_locale(tag))


@_memo
def format_deadline(value: Any, tag: str, tz: str) -> str:
    """An instant with its time and zone, in the reader's zone and locale:
    ``Jan 10, 2026, 10:00 AM PST``, ``2026. 1. 10. 오전 10:00 GMT+9``."""
    moment = _instant(value)
    if not isinstance(moment, datetime):
        return format_date(moment, "medium", locale=babel_locale(tag))
    local = moment.astimezone(_zone(tz))
    return f"{_datetime(moment, None, tag, tz)} {_zone_label(local, babel_locale(tag))}"


def format_money(cents: int | Decimal, currency: str, tag: str) -> str:
    """Minor units as a localized amount (the ``money`` filter, for pages too)."""
    return _money(cents, str(currency).upper(), tag)


def _store_zone(ctx: Context) -> str:
    store = ctx.get("store")
    name = store.get("timezone") if isinstance(store, dict) else getattr(store, "timezone", None)
    return str(name or "UTC")


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
    """A window of calendar days in the store's zone with shared parts written once
    (``Mar 3 – 7, 2026``, ``2026년 3월 3일~7일``); one day when both ends are the same day."""
    return format_window(start, end, skeleton, _locale_tag(ctx), _store_zone(ctx))


@pass_context
def deadline(ctx: Context, value: Any) -> str:
    """When an offer closes: date, time and zone (``Jan 10, 2026, 10:00 AM PST``)."""
    return format_deadline(value, _locale_tag(ctx), _zone_name(ctx))


def with_discount(url: str, code: Any, parameter: str = "discount") -> str:
    """A store link that applies a discount code (``cart.checkout_url | with_discount(code)``)."""
    return with_query(str(url), parameter, str(code)) if code else str(url)


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
    "deadline": deadline,
    "with_discount": with_discount,
    "weekday": weekday,
}

"""Resource limits for templates: how big one value may get, how long and how much a render may
produce, and the checks that estimate a result's size *before* it is computed (``'a' * 10**9``
is refused without allocating a gigabyte). Used by :mod:`journeykit.templating.sandbox`.

A render runs inside a :class:`RenderBudget` (a context variable, set while the template's
code runs): it carries the deadline and counts the characters built so far."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

SIZED = (str, bytes, bytearray, list, tuple)
_FORMAT_NUMBER = re.compile(r"\d+")
# a printf-style conversion: %(name)-*.*d, %08.3f, %%
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?[a-zA-Z%]")
_HINT = "a message never needs values this large: take the repetition or padding out"


class TemplateLimitError(Exception):
    """A template hit a resource limit (the message says which one and what to do)."""


@dataclass(frozen=True)
class TemplateLimits:
    max_string: int = 1_000_000  # characters in any one string (or items a bytes value holds)
    max_items: int = 100_000  # items in any one list or tuple
    max_range: int = 10_000  # items range() may produce
    max_int_bits: int = 16_384  # size of an integer a template computes (~4,900 digits)
    max_output: int = 2_000_000  # characters one render produces (an email's HTML)
    max_sms: int = 20_000  # characters one SMS render produces
    max_built: int = 10_000_000  # characters all strings built during one render add up to
    seconds: float = 2.0  # time one render may take

    @classmethod
    def from_settings(cls, settings: Any) -> TemplateLimits:
        return cls(
            max_string=settings.templates.max_string_chars,
            max_output=settings.templates.max_output_chars,
            max_sms=settings.templates.max_sms_chars,
            seconds=settings.templates.render_seconds,
        )

    def with_output(self, max_output: int | None) -> TemplateLimits:
        return self if max_output is None else replace(self, max_output=max_output)


def too_big(what: str, size: int, limit: int, unit: str = "characters") -> TemplateLimitError:
    return TemplateLimitError(
        f"{what} would be {size:,} {unit} (the template limit is {limit:,}); {_HINT}"
    )


class RenderBudget:
    """One render's deadline and running totals."""

    __slots__ = ("built", "clock", "deadline", "limits")

    def __init__(self, limits: TemplateLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self.clock = clock
        self.deadline = clock() + limits.seconds
        self.built = 0

    def tick(self) -> None:
        if self.clock() > self.deadline:
            raise TemplateLimitError(
                f"rendering took longer than the template limit of {self.limits.seconds:g} s "
                "(a loop over too many items, or loops nested too deep?); simplify the "
                "template, or raise JOURNEYKIT_TEMPLATES__RENDER_SECONDS if it is really needed"
            )

    def add_built(self, size: int) -> None:
        self.built += size
        if self.built > self.limits.max_built:
            raise TemplateLimitError(
                "the strings this render builds add up to more than the template limit of "
                f"{self.limits.max_built:,} characters; {_HINT}"
            )


_ACTIVE: ContextVar[RenderBudget | None] = ContextVar("template_budget", default=None)


def active_budget() -> RenderBudget | None:
    return _ACTIVE.get()


@contextmanager
def budget_scope(
    limits: TemplateLimits, clock: Callable[[], float] = time.monotonic
) -> Iterator[RenderBudget]:
    """The active budget, or a new one for the duration of the ``with`` (never across a
    ``yield`` of the caller: a generator sets it around each step instead)."""
    current = _ACTIVE.get()
    if current is not None:
        yield current
        return
    budget = RenderBudget(limits, clock)
    token = _ACTIVE.set(budget)
    try:
        yield budget
    finally:
        _ACTIVE.reset(token)


def checked(value: Any, limits: TemplateLimits, what: str = "a value") -> Any:
    """``value`` after checking its size (and counting a new string against the budget)."""
    if isinstance(value, (str, bytes, bytearray)):
        if len(value) > limits.max_string:
            raise too_big(what, len(value), limits.max_string)
        budget = _ACTIVE.get()
        if budget is not None:
            budget.add_built(len(value))
    elif isinstance(value, (list, tuple)) and len(value) > limits.max_items:
        raise too_big(what, len(value), limits.max_items, "items")
    return value


def _size_limit(value: Any, limits: TemplateLimits) -> tuple[int, str]:
    if isinstance(value, (list, tuple)):
        return limits.max_items, "items"
    return limits.max_string, "characters"


def check_binop(operator: str, left: Any, right: Any, limits: TemplateLimits) -> None:
    """Refuse ``left <operator> right`` when its result would be too big."""
    if operator == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, SIZED) and isinstance(count, int):
                limit, unit = _size_limit(seq, limits)
                if len(seq) * count > limit:
                    raise too_big("a repetition (*)", len(seq) * count, limit, unit)
        if _is_int(left) and _is_int(right):
            bits = abs(left).bit_length() + abs(right).bit_length()
            _check_bits(bits, limits)
    elif operator == "**":
        if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            _check_bits(abs(left).bit_length() * right, limits)
    elif operator == "+":
        if isinstance(left, SIZED) and isinstance(right, SIZED):
            limit, unit = _size_limit(left, limits)
            if len(left) + len(right) > limit:
                raise too_big("a concatenation (+)", len(left) + len(right), limit, unit)
    elif operator == "%" and isinstance(left, (str, bytes)):
        check_percent_format(left, right, limits)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_bits(bits: int, limits: TemplateLimits) -> None:
    if bits > limits.max_int_bits:
        raise too_big("a number", bits, limits.max_int_bits, "bits")


def check_percent_format(fmt: str | bytes, args: Any, limits: TemplateLimits) -> None:
    """``'%999999999d' % 1``, ``'%.*f' % (10**9, 1.0)``: widths and precisions in the format,
    or taken from the arguments by ``*``, must be within the string limit."""
    text = fmt if isinstance(fmt, str) else fmt.decode("latin-1")
    star = False
    for spec in _PERCENT_SPEC.finditer(text):
        for part in spec.groups():
            if part == "*":
                star = True
            elif part and int(part) > limits.max_string:
                raise too_big("a %-format width", int(part), limits.max_string)
    if star:
        values = args if isinstance(args, tuple) else (args,)
        for value in values:
            if _is_int(value) and abs(value) > limits.max_string:
                raise too_big("a %-format width", abs(value), limits.max_string)


def check_format_spec(spec: str, limits: TemplateLimits) -> None:
    """``'{:>999999999}'.format(1)``: every number in a format spec (width, precision)."""
    for number in _FORMAT_NUMBER.findall(spec):
        if len(number) > 12 or int(number) > limits.max_string:
            raise too_big("a format width", int(number[:13]), limits.max_string)


def bounded_list(items: Iterable[Any], limits: TemplateLimits, max_chars: int) -> list[Any]:
    """``items`` as a list, refusing more than ``max_items`` items or strings that add up to
    more than ``max_chars`` (checked while consuming: nothing big is built first)."""
    result: list[Any] = []
    chars = 0
    budget = _ACTIVE.get()
    for item in items:
        result.append(item)
        if len(result) > limits.max_items:
            raise too_big("a list", len(result), limits.max_items, "items")
        if isinstance(item, (str, bytes)):
            chars += len(item)
            if chars > max_chars:
                raise too_big("the joined text", chars, max_chars)
        if budget is not None and len(result) % 256 == 0:
            budget.tick()
    return result

"""Size checks for what a template calls: Jinja's filters (``center``, ``indent``, ``wordwrap``,
``join``, ...), str methods that take a width or a count (``'x'.ljust(10**9)``), and the
``lipsum`` global. Each is refused before it runs when its result would be too big; every
filter's result is checked after it runs as well."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import BuiltinMethodType, GeneratorType
from typing import Any

from jinja2.filters import make_attrgetter
from jinja2.utils import _PassArg, generate_lorem_ipsum

from journeykit.templating.limits import (
    SIZED,
    TemplateLimits,
    bounded_list,
    check_percent_format,
    checked,
    too_big,
)

Precheck = Callable[..., Any]
_JINJA_KWARGS = ("_loop_vars", "_block_vars")
MAX_JSON_INDENT = 64
MAX_LIPSUM = 100  # paragraphs, and words per paragraph


def _width(limits: TemplateLimits, what: str, width: Any, limit: int | None = None) -> None:
    limit = limits.max_string if limit is None else limit
    if isinstance(width, int) and width > limit:
        raise too_big(what, width, limit)


def _estimate(limits: TemplateLimits, what: str, size: int) -> None:
    if size > limits.max_string:
        raise too_big(what, size, limits.max_string)


def replaced_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    """The length of ``text.replace(old, new, count)``, without building it."""
    if not isinstance(text, (str, bytes)) or type(old) is not type(new) or (not old and not new):
        return len(text) if isinstance(text, SIZED) else 0
    try:
        found = text.count(old) if old else len(text) + 1
    except TypeError:
        return len(text)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


def _center(limits: TemplateLimits, head: tuple[Any, ...], value: Any, width: Any = 80) -> Any:
    _width(limits, "|center", width)
    return value


def _indent(
    limits: TemplateLimits, head: tuple[Any, ...], value: Any, width: Any = 4, *_a: Any, **_k: Any
) -> Any:
    text = str(value)
    step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    _width(limits, "|indent", step)
    _estimate(limits, "|indent", len(text) + (text.count("\n") + 1) * max(step, 0))
    return value


def _wordwrap(
    limits: TemplateLimits,
    head: tuple[Any, ...],
    value: Any,
    width: Any = 79,
    break_long_words: Any = True,
    wrapstring: Any = None,
    *_a: Any,
    **kw: Any,
) -> Any:
    _width(limits, "|wordwrap", width)
    wrapstring = kw.get("wrapstring", wrapstring)
    text = str(value)
    if isinstance(width, int) and width > 0:
        breaks = len(text) // width + 1
        _estimate(limits, "|wordwrap", len(text) + breaks * len(str(wrapstring or "\n")))
    return value


def _truncate(
    limits: TemplateLimits,
    head: tuple[Any, ...],
    value: Any,
    length: Any = 255,
    *_a: Any,
    **_k: Any,
) -> Any:
    _width(limits, "|truncate", length)
    return value


def _format(
    limits: TemplateLimits, head: tuple[Any, ...], value: Any, *args: Any, **kwargs: Any
) -> Any:
    check_percent_format(str(value), kwargs or args, limits)
    return value


def _replace(
    limits: TemplateLimits,
    head: tuple[Any, ...],
    value: Any,
    old: Any = "",
    new: Any = "",
    count: Any = None,
) -> Any:
    _estimate(limits, "|replace", replaced_size(str(value), str(old), str(new), count))
    return value


def _join(
    limits: TemplateLimits, head: tuple[Any, ...], value: Any, d: Any = "", attribute: Any = None
) -> Any:
    items = bounded_list(value, limits, limits.max_string)
    parts = items
    if attribute is not None:
        parts = list(map(make_attrgetter(head[0].environment, attribute), items))
    size = sum(len(p) if isinstance(p, str) else len(str(p)) for p in parts)
    _estimate(limits, "|join", size + len(str(d)) * max(len(parts) - 1, 0))
    return items


def _count(
    limits: TemplateLimits, head: tuple[Any, ...], value: Any, count: Any = 1, *_a: Any, **_k: Any
) -> Any:
    if isinstance(count, int) and count > limits.max_items:
        raise too_big("a batch or slice count", count, limits.max_items, "items")
    return value


def _sum(
    limits: TemplateLimits, head: tuple[Any, ...], value: Any, attribute: Any = None, start: Any = 0
) -> Any:
    items = bounded_list(value, limits, limits.max_built)
    if isinstance(start, SIZED):
        size = len(start) + sum(len(i) for i in items if isinstance(i, SIZED))
        limit = limits.max_items if isinstance(start, (list, tuple)) else limits.max_string
        if size > limit:
            raise too_big("|sum", size, limit)
    return items


def _tojson(limits: TemplateLimits, head: tuple[Any, ...], value: Any, indent: Any = None) -> Any:
    if isinstance(indent, int) and indent > MAX_JSON_INDENT:
        raise too_big("a |tojson indent", indent, MAX_JSON_INDENT, "spaces")
    return value


PRECHECKS: dict[str, Precheck] = {
    "center": _center,
    "indent": _indent,
    "wordwrap": _wordwrap,
    "truncate": _truncate,
    "format": _format,
    "replace": _replace,
    "join": _join,
    "batch": _count,
    "slice": _count,
    "sum": _sum,
    "tojson": _tojson,
}


def limited_filter(name: str, func: Callable[..., Any], limits: TemplateLimits) -> Any:
    """``func`` refusing too big a result: a generator argument (``x|map(...)``) is read into a
    bounded list, the filter's precheck (if any) runs, then its result is checked."""
    precheck = PRECHECKS.get(name)
    skip = 0 if _PassArg.from_obj(func) is None else 1

    @functools.wraps(func)
    def limited(*args: Any, **kwargs: Any) -> Any:
        if len(args) > skip:
            head, value, rest = args[:skip], args[skip], args[skip + 1 :]
            if isinstance(value, GeneratorType):
                value = bounded_list(value, limits, limits.max_built)
            if precheck is not None:
                value = precheck(limits, head, value, *rest, **kwargs)
            args = (*head, value, *rest)
        return checked(func(*args, **kwargs), limits, f"the result of |{name}")

    return limited


def check_method_call(
    func: Any, args: tuple[Any, ...], kwargs: dict[str, Any], limits: TemplateLimits
) -> tuple[Any, ...]:
    """Refuse a str/bytes method call (or ``int.to_bytes``) that would build too big a value;
    the (possibly materialized) positional arguments to call it with."""
    if not isinstance(func, BuiltinMethodType):
        return args
    owner, name = func.__self__, func.__name__
    named = {k: v for k, v in kwargs.items() if k not in _JINJA_KWARGS}

    def arg(i: int, key: str, default: Any) -> Any:
        return args[i] if len(args) > i else named.get(key, default)

    if isinstance(owner, int) and name == "to_bytes":
        _width(limits, "int.to_bytes()", arg(0, "length", 1))
    if not isinstance(owner, (str, bytes, bytearray)):
        return args
    what = f"{type(owner).__name__}.{name}()"
    if name in ("ljust", "rjust", "center", "zfill"):
        _width(limits, what, arg(0, "width", 0))
    elif name == "expandtabs":
        size = arg(0, "tabsize", 8)
        tab = "\t" if isinstance(owner, str) else b"\t"
        if isinstance(size, int):
            _estimate(limits, what, len(owner) + owner.count(tab) * max(size, 0))  # type: ignore[arg-type]
    elif name == "replace" and len(args) >= 2:
        _estimate(limits, what, replaced_size(owner, args[0], args[1], arg(2, "count", -1)))
    elif name == "join" and args:
        items = bounded_list(args[0], limits, limits.max_string)
        _estimate(limits, what, sum(map(_length, items)) + len(owner) * max(len(items) - 1, 0))
        return (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((_length(v) for v in args[0].values()), default=1)
        _estimate(limits, what, len(owner) * max(longest, 1))
    return args


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, bytes, bytearray)) else 1


def limited_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> Any:
    """``lipsum()`` with at most ``MAX_LIPSUM`` paragraphs of at most ``MAX_LIPSUM`` words."""
    for unit, value in (("paragraphs", n), ("words", max)):
        if isinstance(value, int) and value > MAX_LIPSUM:
            raise too_big("lipsum()", value, MAX_LIPSUM, unit)
    return generate_lorem_ipsum(n, html, min, max)

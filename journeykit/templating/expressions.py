"""Jinja expressions in journeys (trigger filters, branch conditions), evaluated in the
same sandbox as templates: a marketer's expression cannot reach Python internals."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined

from journeykit.templating.sandbox import HardenedEnvironment, TemplateLimits

_ENV = HardenedEnvironment(undefined=StrictUndefined, limits=TemplateLimits())


@lru_cache(maxsize=512)
def compile_condition(source: str) -> Callable[..., Any]:
    return _ENV.compile_expression(source, undefined_to_none=False)


def holds(source: str, context: dict[str, Any]) -> bool:
    """Evaluate ``source`` against ``context``; raises on syntax errors or missing names."""
    with _ENV.render_scope():  # resource limits (docs/reliability.md)
        return bool(compile_condition(source)(**context))


def evaluate(source: str, context: dict[str, Any]) -> Any:
    """The value of ``source`` against ``context`` (e.g. a number for an allotment)."""
    with _ENV.render_scope():
        return compile_condition(source)(**context)

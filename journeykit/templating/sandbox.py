"""The one Jinja environment every template and journey expression runs in: Jinja's immutable
sandbox (no reaching Python internals) plus resource limits (no memory or CPU bombs).

- ``*``, ``**``, ``%``, ``+`` and ``~`` refuse results that would be too big, sized *before*
  computing (``'a' * 10**9``, ``10**10**10``, ``'%999999999d' % 1``);
- str methods with a width or count (``ljust``, ``center``, ``zfill``, ``expandtabs``,
  ``replace``, ``join``, ``format``) and the size-taking filters (``center``, ``indent``,
  ``wordwrap``, ``truncate``, ``join``, ``batch``, ...) are capped;
- ``range()`` yields at most 10,000 items; every loop step and call checks the render's time
  budget; a render's output is joined chunk by chunk and stops at the output limit.

Limits: :class:`~journeykit.templating.limits.TemplateLimits` (docs/reliability.md,
"Hostile templates: resource limits")."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from functools import update_wrapper
from types import BuiltinMethodType, MethodType
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from markupsafe import Markup

from journeykit.foundation.settings import get_settings
from journeykit.templating.call_limits import (
    check_method_call,
    limited_filter,
    limited_lipsum,
)
from journeykit.templating.limits import (
    RenderBudget,
    TemplateLimitError,
    TemplateLimits,
    active_budget,
    budget_scope,
    check_binop,
    check_format_spec,
    checked,
    too_big,
)

__all__ = ["HardenedEnvironment", "TemplateLimitError", "TemplateLimits", "default_limits"]


def default_limits() -> TemplateLimits:
    """The limits from the process settings (``JOURNEYKIT_TEMPLATES__*``)."""

    return TemplateLimits.from_settings(get_settings())


class _LimitedCodeGenerator(CodeGenerator):
    """Compiles every ``{% for %}`` to iterate through ``environment.limited_iter`` (a time
    check per step) and every ``a ~ b`` through ``environment.limited_text`` (a size check)."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        original = node.iter
        guard = nodes.EnvironmentAttribute("limited_iter", lineno=original.lineno)
        node.iter = nodes.Call(guard, [original], [], None, None, lineno=original.lineno)
        try:
            super().visit_For(node, frame)
        finally:
            node.iter = original

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.limited_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class _LimitedFormatter(SandboxedFormatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec, self._env.limits)  # type: ignore[attr-defined]
        return super().format_field(value, format_spec)


class _LimitedEscapeFormatter(_LimitedFormatter, SandboxedEscapeFormatter):
    pass


class HardenedEnvironment(ImmutableSandboxedEnvironment):
    """``ImmutableSandboxedEnvironment`` with resource limits. ``limits`` defaults to the
    settings; ``clock`` (seconds, monotonic) times each render against ``limits.seconds``."""

    code_generator_class = _LimitedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(
        self,
        *args: Any,
        limits: TemplateLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits or default_limits()
        self.clock = clock
        self.filters = {
            name: limited_filter(name, f, self.limits) for name, f in self.filters.items()
        }
        self.globals["range"] = self.limited_range
        self.globals["lipsum"] = limited_lipsum

    def render_scope(self, max_output: int | None = None) -> AbstractContextManager[RenderBudget]:
        """``with env.render_scope(max_output=...):`` around a render: one time budget and
        output limit for everything rendered inside (blocks, the page, includes, macros)."""
        return budget_scope(self.limits.with_output(max_output), self.clock)

    def concat(self, chunks: Iterable[str]) -> str:
        """Join a render's output chunk by chunk, stopping once it passes the output limit
        (the time budget is checked where time goes: loop steps, calls, operators)."""
        with self.render_scope() as budget:
            limit = budget.limits.max_output
            parts: list[str] = []
            total = 0
            for chunk in chunks:
                total += len(chunk)
                if total > limit:
                    raise TemplateLimitError(
                        f"the rendered text would be longer than the template limit of {limit:,} "
                        "characters; look for a loop that repeats more than intended"
                    )
                parts.append(chunk)
            return "".join(parts)

    def limited_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        iterator = iter(iterable)
        budget = active_budget()
        return iterator if budget is None else _ticking(iterator, budget)

    def limited_text(self, value: Any) -> Any:
        return checked(value, self.limits, "a joined string (~)")

    def limited_range(self, *args: int) -> range:
        numbers = range(*args)
        size = max(0, -((numbers.start - numbers.stop) // numbers.step))  # len() may overflow
        if size > self.limits.max_range:
            raise too_big("range()", size, self.limits.max_range, "items")
        return numbers

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        check_binop(operator, left, right, self.limits)
        result = super().call_binop(context, operator, left, right)
        return checked(result, self.limits, f"the result of {operator}")

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _tick()
        args = check_method_call(obj, args, kwargs, self.limits)
        return checked(super().call(context, obj, *args, **kwargs), self.limits, "a call's result")

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` through the sandbox's formatter, with widths capped."""
        if not isinstance(value, (MethodType, BuiltinMethodType)) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        owner = value.__self__
        if not isinstance(owner, str):
            return None
        formatter: SandboxedFormatter
        if isinstance(owner, Markup):
            formatter = _LimitedEscapeFormatter(self, escape=owner.escape)
        else:
            formatter = _LimitedFormatter(self)
        is_map = value.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_map:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one positional argument")
                mapping, args = args[0], ()
                kwargs = mapping
            text = type(owner)(formatter.vformat(owner, args, kwargs))
            checked(text, self.limits, "str.format()")
            return text

        return update_wrapper(wrapper, value)


def _tick() -> None:
    budget = active_budget()
    if budget is not None:
        budget.tick()


def _ticking(iterator: Iterator[Any], budget: RenderBudget) -> Iterator[Any]:
    for item in iterator:
        budget.tick()
        yield item


def static_limit_errors(env: HardenedEnvironment, ast: nodes.Template) -> list[tuple[int, str]]:
    """(line, message) for each expression made of literals and globals only that hits a limit
    when evaluated (``{{ 'a' * 10**9 }}``, ``range(10**5)``): what ``journeys validate`` can
    tell without data."""
    found: dict[int, str] = {}
    kinds = (nodes.BinExpr, nodes.Filter, nodes.Call, nodes.Concat)
    for node in ast.find_all(kinds):
        names = {name.name for name in node.find_all(nodes.Name)}
        if node.lineno in found or names - set(env.globals):  # needs data: left to rendering
            continue
        expression = copy.deepcopy(node, {id(node.environment): node.environment})
        template = nodes.Template([nodes.Output([expression])], lineno=1)
        try:
            compiled = env.from_string(template)
            with budget_scope(env.limits.with_output(None), env.clock) as budget:
                budget.deadline = min(budget.deadline, env.clock() + 0.5)
                env.concat(compiled.root_render_func(compiled.new_context({})))
        except TemplateLimitError as exc:
            found[node.lineno] = str(exc)
        except Exception:  # any other failure is left to rendering with data
            continue
    return sorted(found.items())

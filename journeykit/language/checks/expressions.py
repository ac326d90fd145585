"""Checks on the Jinja expressions in a journey (``trigger.filter``, ``branches[].when``,
``still_true``): they parse, and read only names the engine provides at that point."""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache

from jinja2 import TemplateSyntaxError, nodes
from jinja2.parser import Parser

from journeykit.language.errors import SpecError, suggestion
from journeykit.language.loading import LoadedJourney
from journeykit.language.nodes import BranchNode, SendNode
from journeykit.language.scope import SUBJECT_SHARED, provided_names
from journeykit.templating.sandbox import HardenedEnvironment, TemplateLimits

FILTER_NAMES = frozenset({"event", "settings"})  # what a trigger filter sees (engine/route.py)
_HINT = "write a Jinja expression, e.g. order.total > 5000 and customer.country == 'KR'"


@lru_cache(maxsize=1)
def _env() -> HardenedEnvironment:
    return HardenedEnvironment(limits=TemplateLimits())


def expression_errors(loaded: LoadedJourney) -> list[SpecError]:
    journey = loaded.journey
    errors = []
    if journey.trigger.filter is not None:
        errors += _expression(
            loaded,
            ("trigger", "filter"),
            "the trigger filter",
            journey.trigger.filter,
            FILTER_NAMES,
        )
    names = provided_names(journey.subject)
    for i, node in enumerate(journey.nodes):
        if isinstance(node, BranchNode):
            for j, branch in enumerate(node.branches):
                what = f"branch {j + 1} of branch node '{node.id}'"
                path = ("nodes", i, "branches", j, "when")
                errors += _expression(loaded, path, what, branch.when, names)
        if isinstance(node, SendNode) and node.still_true is not None:
            what = f"still_true of send node '{node.id}'"
            errors += _expression(loaded, ("nodes", i, "still_true"), what, node.still_true, names)
        if isinstance(node, SendNode) and node.allotment is not None:
            what = f"the allotment of send node '{node.id}'"
            errors += _expression(
                loaded,
                ("nodes", i, "allotment", "max"),
                what,
                node.allotment.max,
                SUBJECT_SHARED & names,
            )
    return errors


def _expression(
    loaded: LoadedJourney,
    path: tuple[Hashable, ...],
    what: str,
    source: str,
    names: frozenset[str],
) -> list[SpecError]:
    env = _env()
    try:
        env.compile_expression(source)
        parser = Parser(env, source, state="variable")
        expression = parser.parse_expression()
    except TemplateSyntaxError as exc:
        return [loaded.error(path, f"{what} is not a valid expression: {exc.message}", _HINT)]
    errors = []
    used = sorted({n.name for n in expression.find_all(nodes.Name) if n.ctx == "load"})
    for name in used:
        if name in names or name in env.globals:
            continue
        message = f"{what} uses '{name}', which is not available here{suggestion(name, names)}"
        errors.append(loaded.error(path, message, f"available names: {', '.join(sorted(names))}"))
    for node in expression.find_all((nodes.Filter, nodes.Test)):
        known = env.filters if isinstance(node, nodes.Filter) else env.tests
        if node.name not in known:
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            message = f"{what} uses an unknown {kind} '{node.name}'{suggestion(node.name, known)}"
            errors.append(loaded.error(path, message))
    return errors

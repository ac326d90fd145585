"""What a journey condition reads, found once per condition from its Jinja syntax tree, so
the engine can evaluate it once per distinct input in a node group instead of once per
enrollment (``StepContext.holds``)."""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import Any

from jinja2 import Environment, meta, nodes

_PARSER = Environment()  # parses conditions to list their names; never renders
CONSTANT_NAMES = frozenset({"settings", "journey"})  # the same for a whole journey version


@lru_cache(maxsize=1024)
def names_in(condition: str) -> frozenset[str]:
    """The top-level names a condition reads (``variant.inventory > 0`` reads ``variant``)."""
    return frozenset(meta.find_undeclared_variables(_PARSER.parse("{{ " + condition + " }}")))


@lru_cache(maxsize=1024)
def data_keys_read(condition: str) -> tuple[str, ...] | None:
    """The keys of ``enrollment.data`` that ``condition`` reads, when those (besides
    ``settings`` and ``journey``) are all it reads, each only as ``enrollment.data.KEY...``;
    None when it reads anything else (then its value can depend on more than those keys).
    ``'email' in enrollment.data.channels`` reads ``("channels",)``."""
    keys: set[str] = set()

    def visit(node: nodes.Node) -> bool:
        if (
            isinstance(node, nodes.Getattr)
            and isinstance(node.node, nodes.Getattr)
            and node.node.attr == "data"
            and isinstance(node.node.node, nodes.Name)
            and node.node.node.name == "enrollment"
        ):
            keys.add(node.attr)
            return True
        if isinstance(node, nodes.Name) and node.name not in CONSTANT_NAMES:
            return False
        return all(visit(child) for child in node.iter_child_nodes())

    tree = _PARSER.parse("{{ " + condition + " }}")
    return tuple(sorted(keys)) if visit(tree) else None


_MISSING = ("missing",)


def frozen(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value that equals another's only when the values are
    equal and of the same types (``1``, ``1.0`` and ``True`` stay apart)."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((str(k), frozen(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(frozen(v) for v in value))
    return (type(value).__name__, value)


def data_inputs(keys: tuple[str, ...], data: dict[str, Any]) -> Hashable:
    """The values of ``keys`` in an enrollment's data (absent keys marked as absent)."""
    return tuple(frozen(data[k]) if k in data else _MISSING for k in keys)

"""Which model describes which part of a journey file, and how to name that part for a
marketer ("send node 'apology'", "outcome 2 of wait_for node 'wait_choice'")."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, get_args

from pydantic import BaseModel

from journeykit.language.journey import FrequencyCap, Journey, QuietHours, Trigger
from journeykit.language.nodes import Condition, Node, Outcome, Variant


def _node_types() -> dict[str, type[BaseModel]]:
    union = get_args(Node)[0]
    found: dict[str, type[BaseModel]] = {}
    for model in get_args(union):
        (tag,) = get_args(model.model_fields["type"].annotation)
        found[tag] = model
    return found


NODE_TYPES: dict[str, type[BaseModel]] = _node_types()
_TOP: dict[str, type[BaseModel]] = {
    "trigger": Trigger,
    "quiet_hours": QuietHours,
    "frequency_cap": FrequencyCap,
}
_ITEMS: dict[str, tuple[type[BaseModel], str]] = {
    "outcomes": (Outcome, "outcome"),
    "branches": (Condition, "branch"),
    "variants": (Variant, "variant"),
}


def fields_of(model: type[BaseModel] | None) -> list[str]:
    """The keys a model accepts (by alias, e.g. ``$schema``)."""
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def model_at(path: tuple[Hashable, ...], data: Any) -> type[BaseModel] | None:
    """The model that validates the mapping at ``path`` (None for free-form parts)."""
    if not path:
        return Journey
    if len(path) == 1:
        return _TOP.get(str(path[0]))
    if path[0] != "nodes":
        return None
    node = _node_data(path, data)
    node_model = NODE_TYPES.get(str(node.get("type"))) if node is not None else None
    if len(path) == 2:
        return node_model
    if len(path) == 4 and isinstance(path[3], int) and str(path[2]) in _ITEMS:
        return _ITEMS[str(path[2])][0]
    return None


def describe(path: tuple[Hashable, ...], data: Any) -> str:
    """How to call the part at ``path`` in a message."""
    if not path:
        return "the journey"
    if len(path) == 1:
        return f"the {path[0]}" if path[0] == "trigger" else f"'{path[0]}'"
    if path[0] != "nodes" or not isinstance(path[1], int):
        return "'" + ".".join(str(p) for p in path) + "'"
    node = _node_data(path, data)
    kind = node.get("type") if node is not None else None
    kind_text = f"{kind} node" if isinstance(kind, str) and kind in NODE_TYPES else "node"
    node_id = node.get("id") if node is not None else None
    name = f"{kind_text} '{node_id}'" if isinstance(node_id, str) else f"{kind_text} #{path[1] + 1}"
    if len(path) == 2:
        return name
    if len(path) >= 4 and isinstance(path[3], int) and str(path[2]) in _ITEMS:
        return f"{_ITEMS[str(path[2])][1]} {path[3] + 1} of {name}"
    if path[2] == "params":
        return f"the params of {name}"
    return f"'{'.'.join(str(p) for p in path[2:])}' of {name}"


def _node_data(path: tuple[Hashable, ...], data: Any) -> dict[str, Any] | None:
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if isinstance(nodes, list) and isinstance(path[1], int) and 0 <= path[1] < len(nodes):
        node = nodes[path[1]]
        return node if isinstance(node, dict) else None
    return None

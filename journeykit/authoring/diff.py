"""What an edit changes, node by node: nodes added, removed or changed (field by field), the
journey's own settings, and — given a database — how many live enrollments stand at each
node the edit touches (they finish on the version they started unless migrated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, func, select

from journeykit.foundation.db import make_engine
from journeykit.foundation.models import Enrollment
from journeykit.language.journey import Journey

JOURNEY_FIELDS = (
    "name",
    "trigger",
    "subject",
    "reentry",
    "exit_when",
    "category",
    "quiet_hours",
    "frequency_cap",
    "settings",
    "start",
)
LIVE = ("active", "waiting")


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass
class NodeChange:
    node: str
    kind: str  # added | removed | changed
    fields: list[FieldChange] = field(default_factory=list)
    live: int = 0  # live enrollments standing at this node (with a database)


@dataclass
class JourneyDiff:
    journey: str
    journey_fields: list[FieldChange] = field(default_factory=list)
    nodes: list[NodeChange] = field(default_factory=list)
    counted: bool = False  # live counts came from a database

    @property
    def empty(self) -> bool:
        return not self.journey_fields and not self.nodes


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists of mappings by index (``branches.0.when``)."""
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, item in value.items():
            items.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return items or {prefix: {}}
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        items = {}
        for index, item in enumerate(value):
            items.update(_flatten(item, f"{prefix}.{index}"))
        return items
    return {prefix: value}


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    flat_old, flat_new = _flatten(old), _flatten(new)
    keys = list(dict.fromkeys([*flat_old, *flat_new]))
    return [
        FieldChange(k, flat_old.get(k), flat_new.get(k))
        for k in keys
        if flat_old.get(k) != flat_new.get(k)
    ]


def _dump(model: Any) -> dict[str, Any]:
    return dict(model.model_dump(mode="json", exclude_defaults=False, by_alias=False))


def diff_journeys(old: Journey, new: Journey) -> JourneyDiff:
    result = JourneyDiff(new.name)
    old_dump, new_dump = _dump(old), _dump(new)
    for name in JOURNEY_FIELDS:
        result.journey_fields += field_changes({name: old_dump[name]}, {name: new_dump[name]})
    old_nodes = {n.id: _dump(n) for n in old.nodes}
    new_nodes = {n.id: _dump(n) for n in new.nodes}
    for node_id in dict.fromkeys([*old_nodes, *new_nodes]):
        if node_id not in new_nodes:
            result.nodes.append(NodeChange(node_id, "removed"))
        elif node_id not in old_nodes:
            result.nodes.append(NodeChange(node_id, "added"))
        else:
            changes = field_changes(old_nodes[node_id], new_nodes[node_id])
            if changes:
                result.nodes.append(NodeChange(node_id, "changed", changes))
    return result


def live_counts(database_url: str, journey: str, *, version: str | None = None) -> dict[str, int]:
    """Live (active or waiting) enrollments of ``journey`` per node (one version, or all)."""

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            query = (
                select(Enrollment.node_id, func.count())
                .where(Enrollment.journey == journey, col(Enrollment.status).in_(LIVE))
                .group_by(col(Enrollment.node_id))
            )
            if version:
                query = query.where(Enrollment.version == version)
            return {node: int(count) for node, count in session.exec(query).all()}
    finally:
        engine.dispose()


def add_live_counts(diff: JourneyDiff, counts: dict[str, int]) -> None:
    diff.counted = True
    for change in diff.nodes:
        change.live = counts.get(change.node, 0)

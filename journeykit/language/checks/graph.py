"""Checks on how nodes link up: ids that point nowhere, nodes nothing reaches, loops that
never wait (an enrollment would spin forever) and waits so long they are unbounded in practice."""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from datetime import timedelta

from journeykit.language.durations import format_duration
from journeykit.language.errors import SpecError, suggestion
from journeykit.language.loading import LoadedJourney
from journeykit.language.nodes import (
    BranchNode,
    CallNode,
    Node,
    SendNode,
    SplitNode,
    WaitForNode,
    WaitNode,
    successors,
)

MAX_WAIT = timedelta(days=400)
KeyPath = tuple[Hashable, ...]


def graph_errors(loaded: LoadedJourney) -> list[SpecError]:
    ids = [node.id for node in loaded.journey.nodes]
    errors = [_dangling(loaded, path, field, target, ids) for path, field, target in _links(loaded)]
    found = [e for e in errors if e is not None]
    found += _unreachable(loaded)
    found += _loops_without_wait(loaded)
    found += _long_waits(loaded)
    return found


def _links(loaded: LoadedJourney) -> Iterator[tuple[KeyPath, str, str]]:
    """(path of the reference, its field name, the id it names) for every reference."""
    if loaded.journey.start is not None:
        yield ("start",), "start", loaded.journey.start
    for i, node in enumerate(loaded.journey.nodes):
        base: KeyPath = ("nodes", i)
        match node:
            case SendNode() | CallNode() | WaitNode():
                if node.next:
                    yield (*base, "next"), "next", node.next
            case WaitForNode():
                for j, outcome in enumerate(node.outcomes):
                    yield (*base, "outcomes", j, "next"), "next", outcome.next
                yield (*base, "on_timeout"), "on_timeout", node.on_timeout
            case BranchNode():
                for j, branch in enumerate(node.branches):
                    yield (*base, "branches", j, "next"), "next", branch.next
                yield (*base, "otherwise"), "otherwise", node.otherwise
            case SplitNode():
                for j, variant in enumerate(node.variants):
                    yield (*base, "variants", j, "next"), "next", variant.next


def _dangling(
    loaded: LoadedJourney, path: KeyPath, field: str, target: str, ids: list[str]
) -> SpecError | None:
    if target in ids:
        return None
    owner = "the journey" if path == ("start",) else _describe(loaded, path)
    message = f"{owner} says {field}: '{target}' but there is no such node"
    close = suggestion(target, ids)
    hint = None if close else f"node ids here: {', '.join(ids)}"
    return loaded.error(path, message + close, hint)


def _describe(loaded: LoadedJourney, path: KeyPath) -> str:
    node = loaded.journey.nodes[int(str(path[1]))]
    name = f"{node.type} node '{node.id}'"
    if len(path) >= 5 and isinstance(path[3], int):
        item = {"outcomes": "outcome", "branches": "branch", "variants": "variant"}[str(path[2])]
        return f"{item} {path[3] + 1} of {name}"
    return name


def _edges(loaded: LoadedJourney) -> dict[str, list[str]]:
    ids = {node.id for node in loaded.journey.nodes}
    return {n.id: [s for s in successors(n) if s in ids] for n in loaded.journey.nodes}


def _unreachable(loaded: LoadedJourney) -> list[SpecError]:
    edges = _edges(loaded)
    start = loaded.journey.start_id
    if start not in edges:
        return []
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return [
        loaded.error(
            ("nodes", i),
            f"{node.type} node '{node.id}' can never be reached from the start ('{start}')",
            "point a next: (or an outcome, branch or variant) at it, or remove it",
        )
        for i, node in enumerate(loaded.journey.nodes)
        if node.id not in seen
    ]


def _waits(node: Node) -> bool:
    if isinstance(node, WaitForNode):
        return node.timeout > timedelta(0)
    if isinstance(node, WaitNode):
        return node.duration is None or node.duration > timedelta(0)
    return False


def _loops_without_wait(loaded: LoadedJourney) -> list[SpecError]:
    """One error per group of nodes that can go round in a circle without waiting."""
    nodes = {n.id: n for n in loaded.journey.nodes if not _waits(n)}
    edges = {k: [s for s in v if s in nodes] for k, v in _edges(loaded).items() if k in nodes}
    order = [n.id for n in loaded.journey.nodes]
    errors = []
    reported: set[str] = set()
    for node_id in order:
        if node_id not in nodes or node_id in reported:
            continue
        cycle = _cycle_from(node_id, edges)
        if cycle is None:
            continue
        reported.update(cycle)
        ring = " → ".join([*cycle, cycle[0]])
        errors.append(
            loaded.error(
                ("nodes", order.index(node_id)),
                f"the loop {ring} has no wait or wait_for: an enrollment would go round forever",
                "put a wait (e.g. duration: 1d) or a wait_for somewhere in the loop",
            )
        )
    return errors


def _cycle_from(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    """A shortest path start → … → start, as the list of nodes on it."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for current in frontier:
            for nxt in edges.get(current, []):
                if nxt == start:
                    path = [current]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return path[::-1]
                if nxt not in parents:
                    parents[nxt] = current
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return None


def _long_waits(loaded: LoadedJourney) -> list[SpecError]:
    errors = []
    hint = "keep waits within 400 days: shorten it, or start a new journey from a later event"
    for i, node in enumerate(loaded.journey.nodes):
        if isinstance(node, WaitNode) and node.duration and node.duration > MAX_WAIT:
            message = f"wait node '{node.id}' waits {format_duration(node.duration)}"
            errors.append(loaded.error(("nodes", i, "duration"), message + _over(), hint))
        if isinstance(node, WaitForNode) and node.timeout > MAX_WAIT:
            message = f"wait_for node '{node.id}' has a timeout of {format_duration(node.timeout)}"
            errors.append(loaded.error(("nodes", i, "timeout"), message + _over(), hint))
    return errors


def _over() -> str:
    return f", longer than the {MAX_WAIT.days}-day limit"

"""A journey as a graph: one box per node, one arrow per way out, labelled with what takes
it (a wait's duration, a ``wait_for`` outcome or its timeout, a branch condition, a split's
weight). ``edges`` is the shared model; ``mermaid`` prints it as Mermaid flowchart text and
``graphs_markdown`` makes docs/graphs.md of every journey (``journeys graph --docs``, checked
by a test); ``path_to`` / ``calls_before`` find the way to a node (previews run those calls)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from journeykit.language.durations import format_duration
from journeykit.language.journey import Journey
from journeykit.language.nodes import (
    BranchNode,
    CallNode,
    ExitNode,
    Node,
    SendNode,
    SplitNode,
    WaitForNode,
    WaitNode,
    successors,
)

START = "__start__"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""


def node_label(node: Node) -> str:
    """What the box says: the id and what the node does, in a marketer's words."""
    match node:
        case SendNode():
            return f"{node.id}<br/>send {node.channel}: {node.template}"
        case WaitNode():
            return f"{node.id}<br/>wait {wait_text(node)}"
        case WaitForNode():
            return (
                f"{node.id}<br/>wait up to {format_duration(node.timeout)} for what happens first"
            )
        case BranchNode():
            return f"{node.id}<br/>check"
        case CallNode():
            return f"{node.id}<br/>do: {node.action}"
        case SplitNode():
            return f"{node.id}<br/>A/B split"
        case ExitNode():
            return f"exit: {node.reason}"
    return node.id


def wait_text(node: WaitNode) -> str:
    if node.duration is not None:
        return format_duration(node.duration)
    if node.until is not None:
        return f"until {node.until} local time"
    at = f" at {node.at}" if node.at else ""
    return f"{node.business_days} business days{at}"


def edges(journey: Journey) -> list[Edge]:
    """Every arrow of the journey, the entry arrow first, in file order."""
    trigger = journey.trigger.event + (" (audience)" if journey.trigger.audience else "")
    found = [Edge(START, journey.start_id, trigger)]
    for node in journey.nodes:
        match node:
            case SendNode() | CallNode():
                if node.next:
                    found.append(Edge(node.id, node.next))
            case WaitNode():
                found.append(Edge(node.id, node.next, wait_text(node)))
            case WaitForNode():
                for outcome in node.outcomes:
                    found.append(Edge(node.id, outcome.next, outcome.action or outcome.event or ""))
                found.append(
                    Edge(node.id, node.on_timeout, f"nothing in {format_duration(node.timeout)}")
                )
            case BranchNode():
                for condition in node.branches:
                    found.append(Edge(node.id, condition.next, condition.when))
                found.append(Edge(node.id, node.otherwise, "else"))
            case SplitNode():
                total = sum(v.weight for v in node.variants)
                for variant in node.variants:
                    share = round(100 * variant.weight / total)
                    found.append(Edge(node.id, variant.next, f"{variant.name} {share}%"))
    return found


def _text(label: str) -> str:
    """A Mermaid string (quotes and pipes as entities)."""
    return '"' + label.replace('"', "#quot;").replace("|", "#124;") + '"'


def _box(node: Node) -> str:
    label = _text(node_label(node))
    match node:
        case BranchNode() | SplitNode():
            return f"{node.id}{{{label}}}"
        case WaitNode() | WaitForNode():
            return f"{node.id}([{label}])"
        case ExitNode():
            return f"{node.id}((({label})))"
        case CallNode():
            return f"{node.id}[[{label}]]"
    return f"{node.id}[{label}]"


def mermaid(journey: Journey) -> str:
    """Mermaid ``flowchart TD`` text for the journey (ends with a newline)."""
    lines = ["flowchart TD", f"  {START}(({_text('start: ' + journey.trigger.event)}))"]
    lines += [f"  {_box(node)}" for node in journey.nodes]
    for edge in edges(journey):
        if edge.source == START:
            lines.append(f"  {START} --> {edge.target}")
        elif edge.label:
            lines.append(f"  {edge.source} -->|{_text(edge.label)}| {edge.target}")
        else:
            lines.append(f"  {edge.source} --> {edge.target}")
    if journey.exit_when:
        ends = ", ".join(journey.exit_when)
        lines.append(f"  exit_when{{{{{_text('ends at once on: ' + ends)}}}}}")
    lines += [
        "  classDef send fill:#e3f2fd,stroke:#1565c0",
        "  classDef wait fill:#fff8e1,stroke:#f9a825",
        "  classDef exit fill:#f3e5f5,stroke:#6a1b9a",
    ]
    for kind, types in (("send", ("send",)), ("wait", ("wait", "wait_for")), ("exit", ("exit",))):
        ids = [n.id for n in journey.nodes if n.type in types]
        if ids:
            lines.append(f"  class {','.join(ids)} {kind}")
    return "\n".join(lines) + "\n"


def path_to(journey: Journey, target: str) -> list[str]:
    """Node ids from the start to ``target`` (inclusive), shortest first found; [] if none."""
    parents: dict[str, str | None] = {journey.start_id: None}
    queue = deque([journey.start_id])
    while queue:
        current = queue.popleft()
        if current == target:
            path = [current]
            while (parent := parents[path[-1]]) is not None:
                path.append(parent)
            return path[::-1]
        for following in successors(journey.node(current)):
            if following not in parents:
                parents[following] = current
                queue.append(following)
    return []


def calls_before(journey: Journey, target: str) -> list[CallNode]:
    """The ``call`` nodes an enrollment passes on its way to ``target``."""
    nodes = [journey.node(node_id) for node_id in path_to(journey, target)[:-1]]
    return [node for node in nodes if isinstance(node, CallNode)]


HEADER = """# Journey diagrams

Generated by `journeys graph --docs docs/graphs.md` from the files in `journeys/`; do not edit
by hand (a test fails when this file and the journeys disagree). Each diagram is what
`journeys graph JOURNEY` prints. Boxes are messages sent, rounded boxes are waits (with their
durations), diamonds are checks (with their conditions) and A/B splits (with their weights),
circles are exits. `ends at once on` lists the events that end the journey wherever it stands.
"""


def graphs_markdown(journeys: list[Journey]) -> str:
    parts = [HEADER]
    for journey in sorted(journeys, key=lambda j: j.name):
        summary = " ".join(journey.description.split())
        parts += [
            f"## {journey.name}",
            "",
            f"Starts on `{journey.trigger.event}`, one per {journey.subject}. {summary}".rstrip(),
            "",
            "```mermaid",
            mermaid(journey).rstrip("\n"),
            "```",
            "",
        ]
    return "\n".join(parts)

"""A journey as a diagram: one box per node, one arrow per way out, labelled with what takes
it (a wait's duration, a ``wait_for`` outcome or its timeout, a branch condition, a split's
weight). ``edges`` is the shared model; ``mermaid`` prints it as Mermaid flowchart text."""

from __future__ import annotations

from dataclasses import dataclass

from journeykit.spec.durations import format_duration
from journeykit.spec.journey import Journey
from journeykit.spec.nodes import (
    BranchNode,
    CallNode,
    ExitNode,
    Node,
    SendNode,
    SplitNode,
    WaitForNode,
    WaitNode,
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
            return f"{node.id}<br/>wait up to {format_duration(node.timeout)} for"
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

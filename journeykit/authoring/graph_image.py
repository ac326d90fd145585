"""The journey graph as SVG or PNG, without any network: Graphviz ``dot`` when it is
installed (``apt-get install graphviz``), else SVG from a small pure-Python layered layout.
PNG needs ``dot``; without it :class:`CannotRender` says so and what to do."""

from __future__ import annotations

import html
import shutil
import subprocess
from collections import defaultdict

from journeykit.authoring.graph import START, edges, node_label
from journeykit.language.journey import Journey

FILLS = {"send": "#e3f2fd", "wait": "#fff8e1", "wait_for": "#fff8e1", "exit": "#f3e5f5"}
SHAPES = {"branch": "diamond", "split": "diamond", "exit": "doublecircle", "call": "box3d"}


class CannotRender(RuntimeError):
    """This format cannot be produced on this machine (the message says why and what to do)."""


def dot_source(journey: Journey) -> str:
    """Graphviz DOT text for the journey."""

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [
        f"digraph {quote(journey.name)} {{",
        "  rankdir=TB; node [fontname=Helvetica fontsize=11 style=filled fillcolor=white];",
        "  edge [fontname=Helvetica fontsize=9];",
        f'  {START} [shape=circle label={quote("start")} fillcolor="#e8f5e9"];',
    ]
    for node in journey.nodes:
        label = node_label(node).replace("<br/>", "\n")
        shape = SHAPES.get(node.type, "box")
        fill = FILLS.get(node.type, "white")
        lines.append(f"  {node.id} [shape={shape} label={quote(label)} fillcolor={quote(fill)}];")
    for edge in edges(journey):
        lines.append(f"  {edge.source} -> {edge.target} [label={quote(edge.label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(journey: Journey, fmt: str) -> bytes:
    """``svg`` or ``png`` bytes of the journey graph."""
    dot = shutil.which("dot")
    if dot:
        done = subprocess.run(
            [dot, f"-T{fmt}"], input=dot_source(journey).encode(), capture_output=True, timeout=60
        )
        if done.returncode != 0:
            raise CannotRender(f"graphviz dot failed: {done.stderr.decode(errors='replace')}")
        return done.stdout
    if fmt == "svg":
        return layered_svg(journey).encode()
    raise CannotRender(
        f"cannot produce {fmt}: Graphviz is not installed "
        "(install it with `apt-get install graphviz`, or use --format svg or mermaid)"
    )


def _layers(journey: Journey) -> dict[str, int]:
    """Each node's row: its longest distance from the start along forward edges."""
    graph = defaultdict(list)
    for edge in edges(journey):
        graph[edge.source].append(edge.target)
    depth = {START: 0}
    order = [START]
    seen = {START}
    while order:  # breadth-first, so a back edge (a loop) does not push nodes down forever
        current = order.pop(0)
        for target in graph[current]:
            if target not in seen:
                seen.add(target)
                depth[target] = depth[current] + 1
                order.append(target)
    for node in journey.nodes:
        depth.setdefault(node.id, max(depth.values()) + 1)
    return depth


def layered_svg(journey: Journey, width: int = 220, height: int = 48, gap: int = 46) -> str:
    """A plain SVG drawing: rows by distance from the start, straight labelled arrows."""
    depth = _layers(journey)
    rows: dict[int, list[str]] = defaultdict(list)
    for node_id in [START, *(n.id for n in journey.nodes)]:
        rows[depth[node_id]].append(node_id)
    columns = max(len(r) for r in rows.values())
    places: dict[str, tuple[int, int]] = {}
    for row, ids in rows.items():
        offset = (columns - len(ids)) * (width + 30) // 2
        for index, node_id in enumerate(ids):
            places[node_id] = (20 + offset + index * (width + 30), 20 + row * (height + gap))
    labels = {n.id: node_label(n) for n in journey.nodes} | {START: "start"}
    kinds = {n.id: n.type for n in journey.nodes}
    total_w = 40 + columns * (width + 30)
    total_h = 40 + (max(rows) + 1) * (height + gap)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for edge in edges(journey):
        (x1, y1), (x2, y2) = places[edge.source], places[edge.target]
        ax, ay, bx = x1 + width // 2, y1 + height, x2 + width // 2
        by = y2 if y2 > y1 else y2 + height
        out.append(
            f'<line x1="{ax}" y1="{ay}" x2="{bx}" y2="{by}" stroke="#555" '
            'marker-end="url(#arrow)"/>'
        )
        if edge.label:
            text = html.escape(edge.label[:48])
            out.append(
                f'<text x="{(ax + bx) // 2 + 4}" y="{(ay + by) // 2}" fill="#333">{text}</text>'
            )
    for node_id, (x, y) in places.items():
        fill = FILLS.get(kinds.get(node_id, ""), "#ffffff")
        out.append(
            f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="8" '
            f'fill="{fill}" stroke="#333"/>'
        )
        for line_no, part in enumerate(labels[node_id].split("<br/>")[:2]):
            weight = ' font-weight="bold"' if line_no == 0 else ""
            out.append(
                f'<text x="{x + width // 2}" y="{y + 19 + line_no * 16}" text-anchor="middle"'
                f"{weight}>{html.escape(part[:40])}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"

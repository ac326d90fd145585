"""Prefect artifacts ops read in the UI: what a run moved, and a live funnel per journey."""

from __future__ import annotations

from collections import Counter

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlmodel import Session, col, func, select

from journeykit.engine.advance import BatchReport
from journeykit.engine.runtime import Runtime
from journeykit.models import Enrollment, OutboxMessage


def artifact_key(prefix: str, journey: str) -> str:
    return f"{prefix}-{journey}".lower().replace("_", "-")


def publish_moves(report: BatchReport, *, title: str, queued: int, limit: int = 200) -> None:
    lines = [f"# {title}", "", f"{report.claimed} enrollments moved, {queued} messages queued.", ""]
    if report.errors:
        lines += ["## Errors", "", *[f"- {e}" for e in report.errors[:50]], ""]
    lines += ["| subject | from | to |", "|---|---|---|"]
    for move in report.moves[:limit]:
        lines.append(f"| {move.subject} | {move.from_node} | {move.to} |")
    if len(report.moves) > limit:
        lines.append(f"| … {len(report.moves) - limit} more | | |")
    # inside our async flows these would return un-awaited coroutines: force the sync path
    create_markdown_artifact("\n".join(lines), description=title, _sync=True)  # type: ignore[call-arg]


def funnel_rows(runtime: Runtime, journey: str) -> list[dict[str, object]]:
    """Per node: enrollments standing there now (by status) and messages sent from it."""
    with Session(runtime.engine) as session:
        standing = session.exec(
            select(Enrollment.node_id, Enrollment.status, func.count())
            .where(Enrollment.journey == journey)
            .group_by(col(Enrollment.node_id), col(Enrollment.status))
        ).all()
        sent = session.exec(
            select(OutboxMessage.node_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.journey == journey)
            .group_by(col(OutboxMessage.node_id), col(OutboxMessage.status))
        ).all()
    nodes = Counter[str]()
    rows: dict[str, dict[str, object]] = {}
    for node, status, count in standing:
        row = rows.setdefault(node, {"node": node})
        row[status] = int(row.get(status, 0)) + count  # type: ignore[call-overload]
        nodes[node] += count
    for node, status, count in sent:
        row = rows.setdefault(node, {"node": node})
        row[f"msg_{status}"] = int(row.get(f"msg_{status}", 0)) + count  # type: ignore[call-overload]
    return [rows[k] for k in sorted(rows)]


def publish_funnel(runtime: Runtime, journey: str) -> None:
    rows = funnel_rows(runtime, journey)
    if rows:
        create_table_artifact(
            rows,
            key=artifact_key("funnel", journey),
            description=f"Live funnel of {journey}: enrollments per node and messages per status",
            _sync=True,  # type: ignore[call-arg]
        )

"""Prefect artifacts ops read in the UI: what a run moved and queued (a markdown artifact on
the run, keyed ``moves-<flow>``: the Artifacts page keeps each flow's history), and a live view
per journey (a keyed table artifact, ``live-<journey>``, that every run touching the journey
updates). Every artifact has a key; every stored string in a table cell is escaped."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from journeykit.delivery.dispatch import DispatchReport
from journeykit.engine.advance import BatchReport
from journeykit.engine.runtime import Runtime
from journeykit.foundation.models import OutboxMessage
from journeykit.reports.live_funnel import read_funnel
from journeykit.reports.markdown import escape, table


def artifact_key(prefix: str, name: str) -> str:
    """``funnel-delay-apology``: Prefect keys allow lower-case letters, digits and dashes."""
    cleaned = "".join(c if c.isascii() and c.isalnum() else "-" for c in f"{prefix}-{name}")
    return "-".join(part for part in cleaned.lower().split("-") if part)


def moves_key() -> str:
    """``moves-journeykit-sweep``, ``moves-restock``: one key per flow (its history is that
    flow's runs); ``moves-run`` outside a flow run."""
    return artifact_key("moves", str(flow_run.get_flow_name() or "run"))


def messages_queued(engine: Engine, enrollment_ids: list[int], since: datetime) -> Counter[str]:
    """Outbox rows this run wrote for these enrollments, by ``channel`` (suppressed ones as
    ``channel (suppressed)``)."""
    counts: Counter[str] = Counter()
    if not enrollment_ids:
        return counts
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage.channel, OutboxMessage.status).where(
                col(OutboxMessage.enrollment_id).in_(enrollment_ids),
                col(OutboxMessage.created_at) >= since,
            )
        ).all()
    for channel, status in rows:
        counts[f"{channel} (suppressed)" if status == "suppressed" else channel] += 1
    return counts


def run_summary(
    report: BatchReport, queued: Counter[str], sent: DispatchReport, *, title: str
) -> str:
    moved = len({m.enrollment_id for m in report.moves})
    by_channel = ", ".join(f"{k}: {v}" for k, v in sorted(queued.items())) or "none"
    return (
        f"{moved} enrollments moved ({len(report.moves)} steps); "
        f"{sum(queued.values())} messages queued ({by_channel}); "
        f"{sent.claimed} dispatched: {sent.sent} sent, {sent.retried} to retry, "
        f"{sent.failed} failed; {sent.withdrawn} withdrawn (no longer true when claimed)"
    )


def publish_moves(
    report: BatchReport,
    *,
    title: str,
    queued: Counter[str],
    sent: DispatchReport,
    limit: int = 200,
) -> None:
    """A markdown artifact on the current run: the counts, the errors, the moves."""
    # inside our async flows the call would return an un-awaited coroutine: force sync
    create_markdown_artifact(
        moves_markdown(report, title=title, queued=queued, sent=sent, limit=limit),
        key=moves_key(),
        description=escape(title),
        _sync=True,  # type: ignore[call-arg]
    )


def moves_markdown(
    report: BatchReport,
    *,
    title: str,
    queued: Counter[str],
    sent: DispatchReport,
    limit: int = 200,
) -> str:
    """The counts, the errors, the moves (subject, from, to), every stored string escaped: a
    subject ``order:5001|sku:TEE-M`` stays in its cell."""
    lines = [f"# {escape(title)}", "", escape(run_summary(report, queued, sent, title=title))]
    errors = report.errors + sent.errors
    if errors:
        lines += ["", "## Errors", "", *[f"- {escape(e)}" for e in errors[:50]]]
    rows = [(m.subject, m.from_node, m.to) for m in report.moves[:limit]]
    if len(report.moves) > limit:
        rows.append((f"… {len(report.moves) - limit} more", "", ""))
    lines += ["", "## Moves", "", *table(("subject", "from", "to"), rows)]
    return "\n".join(lines) + "\n"


def publish_funnel(runtime: Runtime, journey: str) -> None:
    """Update the journey's keyed funnel artifact (entered / waiting per node / sent /
    converted / finished)."""
    order = (
        [n.id for n in runtime.book.get(journey).nodes] if journey in runtime.book.current else []
    )
    funnel = read_funnel(runtime.engine, journey, order)
    create_table_artifact(
        funnel.rows(),
        key=artifact_key("live", journey),
        description=f"Live funnel of {journey}: entered, waiting per node, sent, converted",
        _sync=True,  # type: ignore[call-arg]
    )

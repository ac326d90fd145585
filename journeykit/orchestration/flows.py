"""Prefect flows. A flow run advances a *batch*: one task run per (journey, node) group
and one per channel dispatch, never one per customer. Due times live in our tables;
Prefect runs short batches on a schedule (the sweep) or when an event arrives."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from journeykit.channels.outbox import DispatchReport, claim_outbox, dispatch
from journeykit.db import session_scope
from journeykit.engine.advance import (
    GroupKey,
    GroupResult,
    advance,
    claim_due,
    continuing_after_failure,
    run_node_group,
)
from journeykit.engine.ingest import ingest_event
from journeykit.orchestration.artifacts import publish_funnel, publish_moves
from journeykit.orchestration.rename import rename_current_run
from journeykit.orchestration.runtime_factory import current_runtime
from journeykit.orchestration.senders import senders_for


@task(cache_policy=NO_CACHE, task_run_name="{key.label} · {count} enrollments", retries=0)
def advance_group(key: GroupKey, ids: list[int], count: int) -> GroupResult:
    result = run_node_group(current_runtime(), key, ids)
    if result.errors:
        # the rest of the group committed; the failures are recorded on their enrollments
        raise RuntimeError(
            f"{len(result.errors)} enrollments failed: " + "; ".join(result.errors[:5])
        )
    return result


def _group_runner(runtime: Any, key: GroupKey, ids: list[int]) -> GroupResult:
    """Run a group as a task run; a failed one (some enrollments failed, recorded on them)
    still lets the batch carry on with the enrollments it moved."""
    state = advance_group(key, ids, len(ids), return_state=True)
    if state.is_failed():
        return continuing_after_failure(runtime, key, ids, str(state.message))
    return state.result(_sync=True)  # type: ignore[call-overload]


@task(cache_policy=NO_CACHE, task_run_name="dispatch · {channel} · {count} messages")
def dispatch_channel(channel: str, ids: list[int], count: int) -> DispatchReport:
    runtime = current_runtime()
    return dispatch(runtime, senders_for(runtime), ids)


def run_batch(
    *, journey: str | None, limit: int, ids: list[int] | None = None, title: str
) -> dict[str, int]:
    runtime = current_runtime()
    claimed = claim_due(runtime, limit=limit, journey=journey, ids=ids)
    rename_current_run(f"{title} · {len(claimed)} due")
    report = advance(runtime, claimed, run_group=_group_runner)
    sent = _dispatch_due(runtime, limit)
    publish_moves(report, title=title, queued=sent.claimed)
    for name in [journey] if journey else runtime.book.names():
        publish_funnel(runtime, name)
    get_run_logger().info(
        "%s: %d claimed, %d moves, %d sent", title, len(claimed), len(report.moves), sent.sent
    )
    return {
        "claimed": len(claimed),
        "moves": len(report.moves),
        "sent": sent.sent,
        "errors": len(report.errors) + len(sent.errors),
    }


def _dispatch_due(runtime: Any, limit: int) -> DispatchReport:
    total = DispatchReport()
    for channel in ("email", "sms"):
        ids = claim_outbox(runtime, limit=limit, channel=channel)
        if ids:
            report = dispatch_channel(channel, ids, len(ids))
            total.claimed += report.claimed
            total.sent += report.sent
            total.errors += report.errors
    return total


@flow(name="journeykit-sweep", flow_run_name="sweep")
async def sweep(journey: str | None = None, limit: int = 500) -> dict[str, int]:
    """Advance whatever is due (all journeys, or one) and send what is due."""
    title = f"{journey} · sweep" if journey else "all journeys · sweep"
    return run_batch(journey=journey, limit=limit, title=title)


@flow(name="journeykit-event", flow_run_name="event · {event[type]}")
async def handle_event(event: dict[str, Any], key: str | None = None) -> dict[str, int]:
    """Record one domain event, then advance at once the enrollments it touched."""
    runtime = current_runtime()
    with session_scope(runtime.engine) as session:
        ingested = ingest_event(
            session,
            book=runtime.book,
            now=runtime.clock.now(),
            payload=event,
            key=key,
            source="prefect",
        )
    touched = ingested.routed.touched
    subject = event.get("order_number") or event.get("sku") or event.get("cart_token") or ""
    return run_batch(
        journey=None,
        limit=max(1, len(touched)),
        ids=touched,
        title=f"{event.get('type')} · {subject}".strip(" ·"),
    )


def journey_flow(name: str) -> Any:
    """The flow for one journey, named after it: a sweep of that journey alone."""

    @flow(name=name, flow_run_name=f"{name} · sweep")
    async def run_journey(limit: int = 500) -> dict[str, int]:
        return run_batch(journey=name, limit=limit, title=f"{name} · sweep")

    return run_journey

"""Prefect flows. A flow run advances a *batch*: one task run per (journey, node) group (it
runs on through the instant nodes that follow, in one transaction) and one per channel
dispatch, never one per customer. Due times live in our tables; Prefect runs short batches
on a schedule (the sweep) or when an event arrives."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as flow_run_info
from sqlmodel import Session, col, select

from journeykit.delivery.dispatch import DispatchReport, claim, dispatch
from journeykit.delivery.providers.from_settings import senders_for
from journeykit.delivery.reconcile import reconcile, reconcile_windows
from journeykit.engine.advance import (
    GroupKey,
    GroupResult,
    advance,
    claim_due,
    continuing_after_failure,
    run_node_group,
)
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Enrollment, OutboxMessage
from journeykit.orchestration.artifacts import (
    messages_queued,
    publish_funnel,
    publish_moves,
    run_summary,
)
from journeykit.orchestration.backlog import report_late_work
from journeykit.orchestration.rename import (
    current_event_run_name,
    label_current_run,
    labels_sent,
    run_tags,
    subject_tags,
)
from journeykit.orchestration.run_outcome import run_outcome
from journeykit.orchestration.shared_client import shared_prefect_client
from journeykit.orchestration.story_artifact import publish_event_story
from journeykit.orchestration.wakeups import schedule_after_batch
from journeykit.service.event_inbox import Applied, apply_pending
from journeykit.service.events import accept, subject_of
from journeykit.service.receipts import prune_expired_receipts
from journeykit.service.runtime_factory import current_runtime

# set by whoever runs a batch and wants to know when its messages are sent (the event worker:
# it then takes the next events, and the batch goes on publishing its artifacts)
after_sending: ContextVar[Callable[[], None] | None] = ContextVar("after_sending", default=None)


@task(cache_policy=NO_CACHE, task_run_name="{key.label} · {count} enrollments", retries=0)
def advance_group(key: GroupKey, ids: list[int], count: int) -> GroupResult:
    result = run_node_group(current_runtime(), key, ids)
    if result.errors:
        # the rest of the group committed; the failures are recorded on their enrollments
        raise RuntimeError(
            f"{len(result.errors)} enrollments failed: "
            + "; ".join(customer_safe(e) for e in result.errors[:5])
        )
    return result


def _group_runner(runtime: Runtime, key: GroupKey, ids: list[int]) -> GroupResult:
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


@task(cache_policy=NO_CACHE, task_run_name="provider errors · {channel} · {count} messages")
def provider_errors(channel: str, errors: list[str], count: int) -> None:
    """Fails on purpose, so provider errors show as a failed task run (the rows themselves
    are already recorded failed or queued for a retry)."""
    raise RuntimeError("; ".join(customer_safe(e) for e in errors[:10]))


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()-]{6,}\d")


def customer_safe(text: str) -> str:
    """An error message without email addresses or phone numbers."""
    return _PHONE.sub("<phone>", _EMAIL.sub("<email>", text))


def _live_journeys(runtime: Runtime, ids: list[int]) -> tuple[set[str], set[str]]:
    """(journey names, versions) of these enrollments."""
    if not ids:
        return set(), set()
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Enrollment.journey, Enrollment.version).where(col(Enrollment.id).in_(ids))
        ).all()
    return {j for j, _ in rows}, {v for _, v in rows}


def run_batch(
    *,
    journey: str | None,
    limit: int,
    ids: list[int] | None = None,
    title: str,
    name: Callable[[set[str], int], str] | None = None,
    also_send: set[str] | None = None,
) -> dict[str, int]:
    """Claim what is due, advance it (a task run per journey node group), send what is due (a
    task run per channel; with ``ids``, of the journeys they are in and ``also_send``); name
    and tag the flow run; publish what it did. One Prefect client serves the whole batch
    (its task runs, labels, artifacts and wake-ups): a client each costs ~25 ms of CPU for
    its TLS context alone, the largest single cost of an event batch when it was per call."""
    with shared_prefect_client():
        return _run_batch(
            journey=journey, limit=limit, ids=ids, title=title, name=name, also_send=also_send
        )


def _run_batch(
    *,
    journey: str | None,
    limit: int,
    ids: list[int] | None,
    title: str,
    name: Callable[[set[str], int], str] | None,
    also_send: set[str] | None,
) -> dict[str, int]:
    runtime = current_runtime()
    start = runtime.clock.now()
    report_late_work(runtime)  # journeykit.backlog.late: due work older than the setting
    claimed = claim_due(runtime, limit=limit, journey=journey, ids=ids)
    journeys, versions = _live_journeys(runtime, claimed)
    label = name(journeys, len(claimed)) if name else f"{title} · {len(claimed)} due"
    label_current_run(label, run_tags(journeys, versions))
    report = advance(runtime, claimed, run_group=_group_runner)
    # send only what this run is about: one journey's messages, the touched journeys' for
    # an event, everything for the sweep of all journeys (so names and tags tell the truth)
    scope = {journey} if journey else (journeys | (also_send or set()) if ids is not None else None)
    sent, channels, sent_for = _dispatch_due(runtime, limit, scope)
    if (sending_done := after_sending.get()) is not None:
        sending_done()  # what is left is for people: labels, artifacts, wake-ups
    queued = messages_queued(runtime.engine, claimed, start)
    channels |= {key.split(" ")[0] for key in queued}
    if channels:
        label_current_run(None, run_tags(channels=channels))
    publish_moves(report, title=label, queued=queued, sent=sent)
    for touched in sorted({journey} if journey else journeys | sent_for):
        if touched in runtime.book.current:
            publish_funnel(runtime, touched)
    get_run_logger().info("%s: %s", label, run_summary(report, queued, sent, title=label))
    # runs at the minutes the work left is due, of every journey: a run killed before its
    # end scheduled nothing, the next run of any journey does
    schedule_after_batch(runtime)
    labels_sent()  # the run ends named and tagged after what it did
    return {
        "claimed": len(claimed),
        "moves": len(report.moves),
        "queued": sum(queued.values()),
        "sent": sent.sent,
        "failed": sent.failed,
        "to_retry": sent.retried,
        "errors": len(report.errors) + len(sent.errors),
    }


def _dispatch_due(
    runtime: Runtime, limit: int, scope: set[str] | None = None, *, in_run: bool = True
) -> tuple[DispatchReport, set[str], set[str]]:
    """Send what is due (of the journeys in ``scope``, or of all when None), one task run
    per channel; provider errors fail a task run of their own (``in_run=False``: no task
    runs, for a batch run without Prefect). Returns the combined report, the channels used
    and the journeys sent for."""
    total = DispatchReport()
    channels: set[str] = set()
    journeys: set[str] = set()
    # ambiguous sends (a timeout after the request left, a worker killed mid-send) are
    # settled with the provider before anything else goes out: found, or surely absent
    windows = reconcile_windows(runtime.settings)
    senders = senders_for(runtime)
    total.reconciled = reconcile(
        runtime, senders, stale_after=windows["sms"], email_stale_after=windows["email"]
    )
    for channel in ("email", "sms"):
        claims = (
            [claim(runtime, limit=limit, channel=channel)]
            if scope is None
            else [
                claim(runtime, limit=limit, channel=channel, journey=name) for name in sorted(scope)
            ]
        )
        ids: list[int] = []
        for claimed in claims:
            total.expired += claimed.expired
            total.deferred += claimed.deferred
            total.withdrawn += claimed.withdrawn  # the send-time guard: no longer true
            ids.extend(claimed.ids)
        if not ids:
            continue
        channels.add(channel)
        if in_run:
            report = dispatch_channel(channel, ids, len(ids))
        else:
            report = dispatch(runtime, senders, ids)
        total.add(report)
        journeys |= _outbox_journeys(runtime, ids)
        if report.errors and in_run:
            provider_errors(channel, report.errors, len(report.errors), return_state=True)
    return total, channels, journeys


def _outbox_journeys(runtime: Runtime, ids: list[int]) -> set[str]:
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(OutboxMessage.journey).where(col(OutboxMessage.id).in_(ids))
        ).all()
    return set(rows)


@flow(name="journeykit-sweep", flow_run_name="safety sweep")
async def sweep(journey: str | None = None, limit: int = 500) -> Any:
    """Advance whatever is due (all journeys, or one) and send what is due; the sweep of
    all journeys also deletes idempotency receipts older than their retention."""
    title = f"{journey} · sweep" if journey else "safety sweep"
    applied = None if journey else apply_pending(current_runtime(), limit=limit)
    counts = run_batch(
        journey=journey, limit=limit, title=title, name=None if journey else sweep_name
    )
    if applied is not None:
        counts |= event_counts(applied)
        publish_event_failures(applied)
        counts["receipts_pruned"] = prune_expired_receipts(current_runtime())
    return run_outcome(counts)  # Failed / a named state when sends failed, never plain green


def sweep_name(journeys: set[str], due: int) -> str:
    """``safety sweep · 3 due · restock``; several journeys by name (up to three), else a
    count."""
    if not journeys:
        return f"safety sweep · {due} due"
    who = ", ".join(sorted(journeys)) if len(journeys) <= 3 else f"{len(journeys)} journeys"
    return f"safety sweep · {due} due · {who}"


@flow(name="journeykit-event", flow_run_name=current_event_run_name)
async def handle_event(event: dict[str, Any], key: str | None = None) -> Any:
    """Store one domain event in the inbox (once per ``key``: the door that stored it first
    hands the same key), apply its subject's pending events in the order they were
    accepted, then advance at once the enrollments they touched. An event that cannot apply
    yet waits in the inbox; the next event of its subject or the sweep retries it."""
    runtime = current_runtime()
    with shared_prefect_client():  # one client for the run's calls
        return _handle_event(runtime, event, key)


def _handle_event(runtime: Runtime, event: dict[str, Any], key: str | None) -> Any:
    # order:5001, customer:<store id> (from the order if the event does not say): even if it fails
    label_current_run(None, subject_tags(event, runtime.engine))
    with session_scope(runtime.engine) as session:
        accepted = accept(
            session,
            payload=event,
            key=key or f"prefect:new:{uuid.uuid4()}",
            source="prefect",
            now=runtime.clock.now(),
        )
    applied = apply_pending(runtime, subjects=[accepted.subject])
    waiting = applied.waiting.get(accepted.inbox_id) or applied.failed.get(accepted.inbox_id)
    if not waiting and not accepted.duplicate and accepted.inbox_id not in applied.applied:
        waiting = "not applied yet"  # e.g. it waits for its order, retried at once already
    counts = advance_applied(
        runtime,
        applied,
        title=f"{event.get('type')} · {accepted.subject}",
        subjects=[accepted.subject],
        kind=str(event.get("type")),
        waiting=waiting,
    )
    if waiting:
        get_run_logger().warning("event %s waits: %s", accepted.inbox_id, waiting)
    publish_event_story(runtime.engine, event)  # story-order-<number> / story-customer-<id>
    return run_outcome(counts)


def advance_applied(
    runtime: Runtime,
    applied: Applied,
    *,
    title: str,
    subjects: list[str],
    kind: str,
    waiting: str | None = None,
) -> dict[str, int]:
    """What every event run does once events are applied (the ``event`` deployment's run of
    one event, the ``journeys worker``'s run of a batch): advance at once the enrollments
    they touched, send what that queued (scoped to the touched journeys), name the run
    after the journeys and the subjects (``delay_apology · order:5001``), publish the
    events that failed for good; the counts, events included."""
    touched = applied.touched
    about = subjects_label(subjects)

    def name(journeys: set[str], due: int) -> str:
        if waiting:
            return f"{kind} · {about} · waiting"
        if not journeys:
            return f"{kind} · {about} · nothing to do"
        many = f" · {len(touched)} enrollments" if len(touched) > 1 else ""
        return f"{', '.join(sorted(journeys))} · {about}{many}"

    counts = run_batch(
        journey=None, limit=max(1, len(touched)), ids=touched, title=title, name=name
    )
    publish_event_failures(applied)
    return counts | event_counts(applied)


def advance_applied_without_run(runtime: Runtime, applied: Applied) -> dict[str, int]:
    """``advance_applied`` when the Prefect API is away (``journeys worker`` while the server
    restarts): the same claim and advance without a flow run, task runs or artifacts, so
    events keep flowing. Nothing is sent: the providers' rate limits live on the Prefect
    server; the messages stay queued for the next run that sends for their journey (a
    worker's takeover of messages left queued, the sweep)."""
    touched = applied.touched
    claimed = claim_due(runtime, limit=max(1, len(touched)), ids=touched)
    report = advance(runtime, claimed)
    return {
        "claimed": len(claimed),
        "moves": len(report.moves),
        "errors": len(report.errors),
    } | event_counts(applied)


def subjects_label(subjects: list[str]) -> str:
    """``order:5001``; ``order:5001, order:5002``; ``order:5001 +4 subjects``."""
    if len(subjects) <= 2:
        return ", ".join(subjects)
    return f"{subjects[0]} +{len(subjects) - 1} subjects"


def event_counts(applied: Applied) -> dict[str, int]:
    return {
        "events_applied": len(applied.applied),
        "events_waiting": len(applied.waiting),
        "events_failed": len(applied.failed),
    }


def publish_event_failures(applied: Applied) -> None:
    """Events that failed for good, as an ``event-failures`` artifact (replay one with
    ``journeys events replay ID``)."""
    if not applied.failed:
        return
    rows = "\n".join(
        f"| {inbox_id} | {_cell(error)} |" for inbox_id, error in sorted(applied.failed.items())
    )
    create_markdown_artifact(
        key="event-failures",
        markdown=(
            "## Events that failed for good\n\n| inbox id | last error |\n|---|---|\n"
            f"{rows}\n\nReplay one with `journeys events replay ID`."
        ),
        description="store events that could not be applied",
    )


def _cell(text: str) -> str:
    return customer_safe(text).replace("|", "\\|").replace("\n", " ")[:300]


def event_subject(event: dict[str, Any]) -> str:
    """What an event is about, as ops search for it: ``order:5001``, ``sku:TEE-M``, ..."""
    return subject_of(event)


def journey_flow(name: str) -> Any:
    """The flow for one journey, named after it: what is due in that journey alone (its
    runs are the wake-ups scheduled at the minutes its work is due, orchestration/wakeups.py)."""

    @flow(name=name, flow_run_name=f"{name} · wake-up")
    async def run_journey(limit: int = 500) -> Any:
        await not_before_its_time()
        return run_outcome(run_batch(journey=name, limit=limit, title=name))

    return run_journey


EARLY_START_LIMIT_S = 30.0


async def not_before_its_time() -> None:
    """A process worker submits a scheduled run up to ``PREFECT_WORKER_PREFETCH_SECONDS``
    (10 s) before its time, so a wake-up may start just before its minute: its work would not
    be due yet, and the wake-up that would take it is this very run (the same key). Wait for
    the scheduled time (wall clock: Prefect's schedule is real time), at most 30 s."""
    scheduled = flow_run_info.scheduled_start_time
    if scheduled is None:
        return
    early = (scheduled - datetime.now(UTC)).total_seconds()
    if 0 < early <= EARLY_START_LIMIT_S:
        await asyncio.sleep(early)

"""Scaling out, measured (``journeys bench scaleout --workers 1,2,4``): one restock fan-out on
PostgreSQL, its enrollments advanced and its messages sent by 1, 2 and 4 worker processes at
once, each doing what a flow run of the ``journeykit`` pool does (``orchestration/flows.py``
``run_batch``: claim what is due with ``FOR UPDATE SKIP LOCKED``, advance it, then claim and
send what is due per channel) round after round until nothing is due, against the provider
sandbox (its own process, a provider latency). Each worker count gets a fresh database with
the same audience. Reported per worker count: wall time and messages per second, CPU seconds
of the workers and of PostgreSQL beside it, and how the work divided: enrollments claimed,
messages sent, rounds, and the seconds each worker sat idle while work was still due (a
claim that found nothing because others held the rest). Prefect's own cost per flow run
(0.12-0.2 s) is not in these numbers: the workers run the batches without a Prefect API, so
what is measured is whether the database work divides."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from journeykit.engine.advance import LIVE, advance, claim_due
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope, upgrade
from journeykit.foundation.models import Enrollment, OutboxMessage
from journeykit_rigs.bench.dispatcher import run_sandbox
from journeykit_rigs.bench.latency import database
from journeykit_rigs.bench.pacing import ShiftedClock
from journeykit_rigs.bench.runtime import (
    START,
    bench_runtime,
    bench_settings,
    machine,
)
from journeykit_rigs.bench.seed import SKU, seed_customers, seed_variant

PENDING = ("queued", "sending")
CHANNELS = ("email", "sms")


@dataclass
class WorkerShare:
    """What one worker did."""

    owner: str
    enrollments: int = 0
    moves: int = 0
    sent: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    rounds: int = 0
    empty_rounds: int = 0
    idle_while_due_s: float = 0.0
    cpu_seconds: float = 0.0
    seconds: float = 0.0
    last_sent_at: float = 0.0
    errors: list[str] = field(default_factory=list)


def run_scaleout(
    subscribers: int,
    *,
    workers: tuple[int, ...] = (1, 2, 4),
    latency_ms: float = 40.0,
    batch: int = 500,
    concurrency: int = 16,
    postgres_url: str | None = None,
) -> dict[str, Any]:
    """The same fan-out once per worker count, each on a fresh database of one server."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    sandbox = context.Process(target=run_sandbox, args=(latency_ms, ready, stop), daemon=True)
    sandbox.start()
    provider_url, _port = ready.get(timeout=120)
    options = {
        "providers.sendgrid.base_url": provider_url,
        "providers.twilio.base_url": provider_url,
        "sending.concurrency": concurrency,
        "scale.batch_size": batch,
    }
    runs = []
    try:
        with database(postgres_url) as server:
            for count in workers:
                url = server.create_database(f"scaleout_{os.getpid()}_{count}_{time.time_ns()}")
                runs.append(_one(context, url, count, subscribers, options, batch))
    finally:
        stop.set()
        ready.get(timeout=60)  # the sandbox's CPU report
        sandbox.join(30)
    base = runs[0]
    for run in runs:
        run["speedup"] = round(run["messages_per_s"] / base["messages_per_s"], 2)
    return {
        "benchmark": "scaleout",
        "subscribers": subscribers,
        "latency_ms": latency_ms,
        "batch": batch,
        "concurrency_per_worker": concurrency,
        "runs": runs,
        "machine": machine(),
    }


def _one(
    context: Any, url: str, workers: int, subscribers: int, options: dict[str, Any], batch: int
) -> dict[str, Any]:
    upgrade(url)
    epoch = time.time()
    settings = bench_settings(options)
    runtime = bench_runtime(url, clock=ShiftedClock(START, epoch), settings=settings)
    seed_variant(runtime.engine, runtime.clock.now(), inventory=0)
    seed_customers(runtime.engine, runtime.clock.now(), subscribers, variant_id=1)
    postgres = _postmaster(runtime)
    enrolling, cpu = time.time(), time.process_time()
    enrolled = restock(runtime, subscribers)
    enroll_seconds, enroll_cpu = time.time() - enrolling, time.process_time() - cpu
    go, out = context.Barrier(workers + 1), context.Queue()
    processes = [
        context.Process(
            target=_worker_entry, args=(url, f"worker-{n}", options, epoch, batch, go, out)
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    load_before, machine_before = os.getloadavg(), psutil.cpu_times()
    pg_before = _cpu(postgres)
    go.wait(timeout=300)  # every worker is ready: start the clock
    started = time.time()
    shares = [WorkerShare(**out.get(timeout=24 * 3600)) for _ in processes]
    for process in processes:
        process.join(30)
    pg_cpu = _cpu(postgres) - pg_before
    load_after, machine_busy = os.getloadavg(), _busy(machine_before, psutil.cpu_times())
    failed = [f"{s.owner}: {s.errors}" for s in shares if s.errors]
    if failed:
        raise RuntimeError("a worker failed: " + "; ".join(failed))
    with Session(runtime.engine) as session:
        statuses = dict(
            session.exec(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    runtime.engine.dispose()
    messages = statuses.get("sent", 0)
    seconds = max(max(s.last_sent_at for s in shares) - started, 1e-9)
    worker_cpu = sum(s.cpu_seconds for s in shares)
    shares.sort(key=lambda s: s.owner)
    return {
        "workers": workers,
        "enrolled": enrolled,
        "enroll_seconds": round(enroll_seconds, 3),
        "enroll_cpu_seconds": round(enroll_cpu, 3),
        "messages": messages,
        "outbox": statuses,
        "moves": sum(s.moves for s in shares),
        "seconds": round(seconds, 3),
        "messages_per_s": round(messages / seconds, 1),
        "cpu_seconds": {"workers": round(worker_cpu, 3), "postgres": round(pg_cpu, 3)},
        "worker_cpu_ms_per_message": round(1000 * worker_cpu / max(messages, 1), 3),
        "cpu_ms_per_message": round(1000 * (worker_cpu + pg_cpu) / max(messages, 1), 3),
        "load_average": {"start": _rounded(load_before), "end": _rounded(load_after)},
        # the share of the machine's CPU time in use while the workers ran, by anyone
        "machine_cpu_busy": machine_busy,
        "per_worker": [
            {
                "owner": s.owner,
                "enrollments": s.enrollments,
                "moves": s.moves,
                "sent": s.sent,
                "rounds": s.rounds,
                "empty_rounds": s.empty_rounds,
                "idle_while_due_s": round(s.idle_while_due_s, 3),
                "cpu_seconds": round(s.cpu_seconds, 3),
                "busy_share": round(s.cpu_seconds / seconds, 2),
            }
            for s in shares
        ],
    }


def restock(runtime: Runtime, subscribers: int) -> int:
    """The one event (enough units for every subscriber in the first wave), enrolled in
    chunks as the benchmark of docs/performance.md §1 does."""
    journey = runtime.book.get("restock")
    per_unit = int(journey.settings.get("subscribers_per_unit", 3))
    quantity = max(int(journey.settings.get("min_restock_quantity", 1)), 1)
    quantity = max(quantity, math.ceil(subscribers / per_unit))
    payload = {"type": "inventory.changed", "sku": SKU, "quantity": quantity}
    with session_scope(runtime.engine) as session:
        done = ingest_event(
            session,
            book=runtime.book,
            now=runtime.clock.now(),
            payload=payload,
            key="restock",
            registry=runtime.registry,
            checkpoint=session.commit,
        )
    return len(done.routed.enrolled)


def _worker_entry(
    url: str, owner: str, options: dict[str, Any], epoch: float, batch: int, go: Any, out: Any
) -> None:
    share = WorkerShare(owner)
    try:
        work(url, owner, options, epoch, batch, go, share)
    except BaseException as exc:  # reported to the parent, never lost
        share.errors.append(f"{type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):  # the barrier may be gone already
            go.abort()
    out.put(asdict(share))


def work(
    url: str,
    owner: str,
    options: dict[str, Any],
    epoch: float,
    batch: int,
    go: Any,
    share: WorkerShare,
) -> None:
    """Rounds of what a flow run does (claim due enrollments, advance them, send what is due
    per channel) until no enrollment is due and no message is pending; a round that found
    nothing while others still hold work waits a little and counts as idle while due."""
    from journeykit.delivery.dispatch import send_due
    from journeykit.delivery.providers.from_settings import build_senders

    settings = bench_settings(options)
    runtime = bench_runtime(
        url, clock=ShiftedClock(START, epoch), settings=settings, owner=owner, pool_size=2
    )
    senders = build_senders(settings)
    senders.before_send, senders.status_callback = None, None  # unthrottled; no web app
    go.wait(timeout=300)
    started, cpu = time.time(), time.process_time()
    try:
        while True:
            ids = claim_due(runtime, limit=batch)
            moved = len(advance(runtime, ids).moves) if ids else 0
            sent = 0
            for channel in CHANNELS:
                report = send_due(runtime, senders, limit=batch, channel=channel)
                share.sent[channel] += report.sent
                sent += report.sent
            share.rounds += 1
            share.enrollments, share.moves = share.enrollments + len(ids), share.moves + moved
            if sent:
                share.last_sent_at = time.time()
            if ids or sent:
                continue
            share.empty_rounds += 1
            if _work_left(runtime) == 0:
                break
            idle = time.time()
            time.sleep(0.02)  # the rest is held by others (claimed, being sent)
            share.idle_while_due_s += time.time() - idle
    finally:
        share.seconds = time.time() - started
        share.cpu_seconds = time.process_time() - cpu
        runtime.engine.dispose()


def _work_left(runtime: Runtime) -> int:
    """Enrollments due (leased or not) and messages not yet sent."""
    now = runtime.clock.now()
    with Session(runtime.engine) as session:
        due = session.exec(
            select(func.count()).where(
                col(Enrollment.status).in_(LIVE), col(Enrollment.wake_at) <= now
            )
        ).one()
        pending = session.exec(
            select(func.count()).where(col(OutboxMessage.status).in_(PENDING))
        ).one()
    return int(due) + int(pending)


def _postmaster(runtime: Runtime) -> psutil.Process | None:
    """The PostgreSQL server's main process (its backends are its children), when local."""
    try:
        with runtime.engine.connect() as conn:
            backend = int(conn.execute(text("select pg_backend_pid()")).scalar_one())
        return psutil.Process(backend).parent()
    except (psutil.Error, ValueError):
        return None


def _cpu(postmaster: psutil.Process | None) -> float:
    """CPU seconds of the server and its live backends (a backend's CPU is lost when it
    exits: the workers' connections are still open while this is read)."""
    if postmaster is None:
        return 0.0
    total = 0.0
    try:
        processes = [postmaster, *postmaster.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _busy(before: Any, after: Any) -> float:
    names = [n for n in after._fields if not n.startswith("guest")]  # counted in user
    spent = {name: getattr(after, name) - getattr(before, name) for name in names}
    total = sum(spent.values())
    idle = spent.get("idle", 0.0) + spent.get("iowait", 0.0)
    return round((total - idle) / total, 2) if total else 0.0


def _rounded(load: tuple[float, ...]) -> list[float]:
    return [round(x, 2) for x in load]

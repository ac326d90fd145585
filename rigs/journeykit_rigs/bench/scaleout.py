"""Scaling out, measured (``journeys bench scaleout --workers 1,2,4``): one restock fan-out on
PostgreSQL, its enrollments advanced and its messages sent by 1, 2 and 4 worker processes at
once, each doing what a flow run of the ``journeykit`` pool does (``orchestration/flows.py``
``run_batch``: claim what is due with ``FOR UPDATE SKIP LOCKED``, advance it, then claim and
send what is due per channel) round after round until nothing is due, against the provider
sandbox (its own process, a provider latency). Each worker count gets a fresh database with
the same audience. Reported per worker count: wall time and messages per second, CPU seconds
of the workers and of PostgreSQL beside it, and how the work divided: enrollments claimed,
messages sent, rounds, and the seconds each worker sat idle while work was still due (a
claim that found nothing because others held the rest). Without ``prefect`` the rounds run
without a Prefect API (what is measured is whether the database work divides); with it, a
Prefect server process on the same PostgreSQL (its own database) is started, and each round is
an in-process run of the ``journeykit-sweep`` flow for the restock journey (a flow run, one task
run per node group and per channel, the rate limits taken from Prefect's global concurrency
limits), as ``journeys worker`` runs its batches: Prefect's cost per run is then counted, and
the Prefect server's CPU beside the workers' and PostgreSQL's."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
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
from journeykit_rigs.topology.process import ManagedProcess
from journeykit_rigs.topology.topology import bin_path, free_port

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
    prefect: bool = False,
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
    if prefect:  # unthrottled, but every request still takes its slot from Prefect
        options |= {
            "sending.sms_per_second": 100_000.0,
            "sending.email_requests_per_second": 100_000.0,
            "web.public_base_url": provider_url,  # status callbacks: answered 404 at once
        }
    runs = []
    try:
        with database(postgres_url) as server, _prefect_server(server, prefect) as api:
            for count in workers:
                url = server.create_database(f"scaleout_{os.getpid()}_{count}_{time.time_ns()}")
                runs.append(_one(context, url, count, subscribers, options, batch, api))
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
        "rounds": "journeykit-sweep flow runs (Prefect server on PostgreSQL)"
        if prefect
        else "the flow run's work, without a Prefect API",
        "runs": runs,
        "machine": machine(),
    }


def _one(
    context: Any,
    url: str,
    workers: int,
    subscribers: int,
    options: dict[str, Any],
    batch: int,
    api: ManagedProcess | None,
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
            target=_worker_entry,
            args=(url, f"worker-{n}", options, epoch, batch, go, out, api.env if api else None),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    load_before, machine_before = os.getloadavg(), psutil.cpu_times()
    pg_before = _cpu(postgres)
    prefect_server = psutil.Process(api.pid) if api and api.pid else None
    prefect_before = _cpu(prefect_server)
    try:
        go.wait(timeout=300)  # every worker is ready: start the clock
    except threading.BrokenBarrierError:  # a worker failed getting ready: say why
        shares = [WorkerShare(**out.get(timeout=60)) for _ in processes]
        for process in processes:
            process.join(30)
        failed = [f"{s.owner}: {s.errors}" for s in shares if s.errors]
        raise RuntimeError("a worker failed before the start: " + "; ".join(failed)) from None
    started = time.time()
    shares = [WorkerShare(**out.get(timeout=24 * 3600)) for _ in processes]
    for process in processes:
        process.join(30)
    pg_cpu = _cpu(postgres) - pg_before
    prefect_cpu = _cpu(prefect_server) - prefect_before
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
    spent = {"workers": worker_cpu, "postgres": pg_cpu} | (
        {"prefect_server": prefect_cpu} if api else {}
    )
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
        "cpu_seconds": {k: round(v, 3) for k, v in spent.items()},
        "worker_cpu_ms_per_message": round(1000 * worker_cpu / max(messages, 1), 3),
        "cpu_ms_per_message": round(1000 * sum(spent.values()) / max(messages, 1), 3),
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
    url: str,
    owner: str,
    options: dict[str, Any],
    epoch: float,
    batch: int,
    go: Any,
    out: Any,
    prefect_env: dict[str, str] | None,
) -> None:
    share = WorkerShare(owner)
    try:
        if prefect_env is not None:
            os.environ.update(prefect_env)  # before Prefect is first imported here
        work(url, owner, options, epoch, batch, go, share, prefect=prefect_env is not None)
    except BaseException as exc:  # reported to the parent, never lost
        where = traceback.extract_tb(exc.__traceback__)[-3:]
        trail = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(where))
        share.errors.append(f"{type(exc).__name__}: {exc} (at {trail})")
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
    *,
    prefect: bool = False,
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
    in_flow = _flow_round(runtime, batch) if prefect else None
    if prefect:  # a flow run reports what it sent, not by channel
        share.sent = {"email+sms": 0}
    go.wait(timeout=300)
    started, cpu = time.time(), time.process_time()
    try:
        while True:
            if in_flow is not None:
                claimed, moved, sent = in_flow()
                share.sent["email+sms"] += sent
            else:
                ids = claim_due(runtime, limit=batch)
                claimed, moved = len(ids), len(advance(runtime, ids).moves) if ids else 0
                sent = 0
                for channel in CHANNELS:
                    report = send_due(runtime, senders, limit=batch, channel=channel)
                    share.sent[channel] += report.sent
                    sent += report.sent
            share.rounds += 1
            share.enrollments, share.moves = share.enrollments + claimed, share.moves + moved
            if sent:
                share.last_sent_at = time.time()
            if claimed or sent:
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


def _flow_round(runtime: Runtime, batch: int) -> Any:
    """A round as a ``journeykit-sweep`` flow run of the restock journey, in this process."""
    from journeykit.orchestration.flows import sweep
    from journeykit.orchestration.run_outcome import outcome_counts, run_in_process
    from journeykit.service.runtime_factory import use_runtime

    use_runtime(lambda: runtime)
    # warm-up (imports, the API client, the flow's registration): a run with nothing to claim
    run_in_process(sweep(journey="bench-warm-up", limit=1, return_state=True))

    def one() -> tuple[int, int, int]:
        state = run_in_process(sweep(journey="restock", limit=batch, return_state=True))
        counts = outcome_counts(state)
        return counts["claimed"], counts["moves"], counts["sent"]

    return one


@contextlib.contextmanager
def _prefect_server(server: Any, wanted: bool) -> Iterator[ManagedProcess | None]:
    """A Prefect server process whose database is a new one on ``server`` (as the production
    topology runs it), or nothing."""
    if not wanted:
        yield None
        return
    workdir = Path(tempfile.mkdtemp(prefix="jk-scaleout-"))
    port = free_port()
    database_url = server.create_database(f"prefect_{port}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {
        "PREFECT_HOME": str(workdir / "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url.replace(
            "postgresql+psycopg://", "postgresql+asyncpg://"
        ),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": "20",
        "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": "30",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    api = ManagedProcess(
        "prefect-server",
        [bin_path("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=workdir,
        logs=workdir,
    )
    api.start().wait_until(
        lambda: httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=5).status_code == 200,
        240,
        "healthy Prefect API",
    )
    try:
        yield api
    finally:
        api.stop()


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

"""Restock fan-out: one ``inventory.changed`` event, N subscribers (email + SMS), through
the real engine and the real SDKs to the provider sandbox (in its own process, with a
provider latency). The engine advances the enrollments while a dispatcher process sends
what they queue. Measured: event to last accepted message, messages per second, peak
memory, and the ratio to the floor the rate limits set (none with ``unthrottled``)."""

from __future__ import annotations

import math
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from journeykit.engine.advance import advance, claim_due
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import session_scope
from journeykit.foundation.heap import startup_heap_frozen
from journeykit.foundation.models import OutboxMessage
from journeykit_rigs.bench.dispatcher import dispatch_until_done, run_sandbox
from journeykit_rigs.bench.pacing import ShiftedClock, floor_seconds
from journeykit_rigs.bench.runtime import (
    START,
    bench_runtime,
    bench_settings,
    children_rss_mb,
    database_url,
    dialect,
    machine,
    own_rss_mb,
    peak_rss_mb,
)
from journeykit_rigs.bench.seed import SKU, seed_customers, seed_variant


def run_fanout(
    subscribers: int,
    *,
    latency_ms: float = 40.0,
    unthrottled: bool = False,
    sms_per_second: float = 100.0,
    email_requests_per_second: float = 10.0,
    concurrency: int | None = None,
    batch: int = 500,
    url: str | None = None,
    workdir: Path | None = None,
    send: bool = True,
    advance: bool = True,
) -> dict[str, Any]:
    if not send:
        return run_engine_only(subscribers, batch=batch, url=url, workdir=workdir, advance=advance)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        options = {
            "sending.sms_per_second": sms_per_second,
            "sending.email_requests_per_second": email_requests_per_second,
            "sending.concurrency": concurrency or (64 if unthrottled else 16),
        }
        ready, stop, out = context.Queue(), context.Event(), context.Queue()
        sandbox = context.Process(target=run_sandbox, args=(latency_ms, ready, stop), daemon=True)
        sandbox.start()
        provider_url, _port = ready.get(timeout=120)
        options |= {
            "providers.sendgrid.base_url": provider_url,
            "providers.twilio.base_url": provider_url,
        }
        settings = bench_settings(options)
        epoch = time.time()
        runtime = bench_runtime(url, clock=ShiftedClock(START, epoch), settings=settings)
        seed_variant(runtime.engine, runtime.clock.now(), inventory=0)
        seed_customers(runtime.engine, runtime.clock.now(), subscribers, variant_id=1)
        engine_done = context.Event()
        dispatchers = [
            context.Process(
                target=dispatch_until_done,
                args=(url, channel, options, epoch, unthrottled, engine_done, out),
                daemon=True,
            )
            for channel in ("email", "sms")
        ]
        for process in dispatchers:
            process.start()
        for _ in dispatchers:
            out.get(timeout=120)  # each dispatcher is ready
        with startup_heap_frozen():  # the engine is a started worker too
            started, cpu = time.time(), time.process_time()
            enrolled = _restock(runtime, subscribers)
            moves = _advance_all(runtime, batch)
            engine_seconds, engine_cpu = time.time() - started, time.process_time() - cpu
        engine_done.set()
        sent = {r["channel"]: r for r in (out.get(timeout=24 * 3600) for _ in dispatchers)}
        failed = [f"{c}: {r['error']}" for c, r in sent.items() if "error" in r]
        if failed:
            stop.set()
            raise RuntimeError("a dispatcher failed: " + "; ".join(failed))
        for process in dispatchers:
            process.join(30)
        stop.set()
        sandbox_cpu = ready.get(timeout=60)["cpu_seconds"]
        sandbox.join(30)
        with Session(runtime.engine) as session:
            statuses = dict(
                session.exec(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
            channels = dict(
                session.exec(
                    select(OutboxMessage.channel, func.count())
                    .where(col(OutboxMessage.status) == "sent")
                    .group_by(OutboxMessage.channel)
                ).all()
            )
        runtime.engine.dispose()
    last = max(r["last_sent_at"] for r in sent.values())
    seconds = max(last - started, 1e-9)
    messages = statuses.get("sent", 0)
    floor = floor_seconds(settings, sent["sms"]["requests"], sent["email"]["requests"])
    return {
        "benchmark": "fanout",
        "subscribers": subscribers,
        "enrolled": enrolled,
        "moves": moves,
        "messages": messages,
        "by_channel": channels,
        "outbox": statuses,
        "requests": {c: r["requests"] for c, r in sent.items()},
        "last_sent_s": {c: round(r["last_sent_at"] - started, 3) for c, r in sent.items()},
        "seconds": round(seconds, 3),
        "engine_seconds": round(engine_seconds, 3),
        "engine_cpu_seconds": round(engine_cpu, 3),
        "messages_per_s": round(messages / seconds, 1),
        "floor_seconds": None if unthrottled else round(floor, 3),
        "floor_ratio": None if unthrottled or not floor else round(seconds / floor, 3),
        "latency_ms": latency_ms,
        "unthrottled": unthrottled,
        "limits": {
            k: v for k, v in options.items() if not unthrottled or k == "sending.concurrency"
        },
        "peak_rss_mb": max(peak_rss_mb(), *(r["peak_rss_mb"] for r in sent.values())),
        # the engine's own peak; its finished children (the sandbox keeps every request) apart
        "rss_mb": {"engine": own_rss_mb()}
        | {c: r["peak_rss_mb"] for c, r in sent.items()}
        | {"children": children_rss_mb()},
        # CPU by process: Journeykit's (engine, one dispatcher per channel) and the sandbox's
        # (the providers' side, which shares this machine's cores in the benchmark only).
        "cpu_seconds": {"engine": round(engine_cpu, 3)}
        | {c: round(r["cpu_seconds"], 3) for c, r in sent.items()}
        | {"sandbox": round(sandbox_cpu, 3)},
        "journeykit_cpu_ms_per_message": round(
            1000 * (engine_cpu + sum(r["cpu_seconds"] for r in sent.values())) / max(messages, 1),
            3,
        ),
        "database": dialect(url),
        "machine": machine(),
    }


def run_engine_only(
    subscribers: int,
    *,
    batch: int = 500,
    url: str | None = None,
    workdir: Path | None = None,
    advance: bool = True,
) -> dict[str, Any]:
    """The engine's part alone (``--no-send``): the event, the audience's enrollment and
    every move down to the queued outbox rows, with no sandbox and no dispatcher, so the
    engine's memory and CPU can be measured cheaply. ``advance=False`` (``--enroll-only``):
    the event and the audience's enrollment only, the part whose size is the audience's
    (the advance works in batches of ``batch``), to measure 1,000,000 subscribers."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        runtime = bench_runtime(url, clock=ShiftedClock(START, time.time()))
        seed_variant(runtime.engine, runtime.clock.now(), inventory=0)
        seed_customers(runtime.engine, runtime.clock.now(), subscribers, variant_id=1)
        seeded_rss = peak_rss_mb()
        with startup_heap_frozen():
            started, cpu = time.time(), time.process_time()
            enrolled = _restock(runtime, subscribers)
            enroll_seconds, enroll_cpu = time.time() - started, time.process_time() - cpu
            moves = _advance_all(runtime, batch) if advance else 0
            seconds, engine_cpu = time.time() - started, time.process_time() - cpu
        with Session(runtime.engine) as session:
            statuses = dict(
                session.exec(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ).all()
            )
        runtime.engine.dispose()
    queued = sum(statuses.values())
    return {
        "benchmark": "fanout",
        "send": False,
        "subscribers": subscribers,
        "enrolled": enrolled,
        "moves": moves,
        "outbox": statuses,
        "engine_seconds": round(seconds, 3),
        "enroll_seconds": round(enroll_seconds, 3),
        "engine_cpu_seconds": round(engine_cpu, 3),
        "enroll_cpu_seconds": round(enroll_cpu, 3),
        "engine_cpu_ms_per_message": round(1000 * engine_cpu / queued, 3) if queued else None,
        "peak_rss_mb": peak_rss_mb(),
        "rss_mb": {"after_seed": seeded_rss, "engine": peak_rss_mb()},
        "database": dialect(url),
        "machine": machine(),
    }


def _restock(runtime: Any, subscribers: int) -> int:
    """The one event: enough units for every subscriber to be alerted in the first wave."""
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
            checkpoint=session.commit,  # the audience commits per chunk
        )
    return len(done.routed.enrolled)


def _advance_all(runtime: Any, batch: int) -> int:
    moves = 0
    while ids := claim_due(runtime, limit=batch):
        moves += len(advance(runtime, ids).moves)
    return moves

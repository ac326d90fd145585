"""The processes around a fan-out: the provider sandbox (with latency) and a dispatcher
that sends whatever the engine queues until the engine is done and the outbox is empty."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, func, select

from journeykit.foundation.models import OutboxMessage

PENDING = ("queued", "sending")
log = logging.getLogger(__name__)


def run_sandbox(latency_ms: float, ready: Any, stop: Any) -> None:
    """Serve the sandbox until ``stop`` is set (run in its own process)."""
    from journeykit.sandbox.faults import FaultConfig
    from journeykit.sandbox.server import SandboxServer
    from journeykit_rigs.bench.runtime import bench_settings

    server = SandboxServer.from_settings(
        bench_settings(), faults=FaultConfig(latency_ms=latency_ms)
    )
    with server:
        ready.put((server.url, server.port))
        cpu = time.process_time()
        while not stop.wait(0.5):
            pass
    # What standing in for the providers cost, from the moment it was ready.
    ready.put({"cpu_seconds": time.process_time() - cpu})


def dispatch_until_done(*args: Any) -> None:
    """:func:`dispatch_rounds`, reporting a crash to the parent instead of leaving it waiting."""
    out = args[-1]
    try:
        dispatch_rounds(*args)
    except BaseException as exc:
        out.put({"channel": args[1], "error": f"{type(exc).__name__}: {exc}"})
        raise


def dispatch_rounds(
    url: str,
    channel: str,
    options: dict[str, Any],
    epoch: float,
    unthrottled: bool,
    engine_done: Any,
    out: Any,
) -> None:
    """Send due rows of ``channel`` round after round (one process per channel, as the
    limits are per channel); report when the last one was accepted."""
    from journeykit.delivery.dispatch import send_due
    from journeykit.delivery.providers.from_settings import build_senders
    from journeykit.delivery.ratelimit import limiter_for
    from journeykit.foundation.heap import startup_heap_frozen
    from journeykit_rigs.bench.pacing import Pacer, ShiftedClock
    from journeykit_rigs.bench.runtime import START, bench_runtime, bench_settings, peak_rss_mb

    settings = bench_settings(options)
    runtime = bench_runtime(url, clock=ShiftedClock(START, epoch), settings=settings)
    senders = build_senders(settings)
    senders.before_send = None if unthrottled else (limiter_for(settings) or Pacer(settings))
    senders.status_callback = None  # no web app listens in a benchmark
    requests, sent, last_sent_at, locked, idle = 0, 0, 0.0, 0, 0
    unsure: dict[str, int] = {}  # retried, ambiguous, reconciled, failed: none in a clean run
    errors: list[str] = []
    limit = settings.scale.batch_size
    with startup_heap_frozen():  # as `journeys worker` does once started
        out.put("ready")
        cpu = time.process_time()
        while True:
            finished = engine_done.is_set()
            try:
                report = send_due(runtime, senders, limit=limit, channel=channel)
            except OperationalError as exc:  # SQLite: the engine held the write lock too long
                locked += 1
                if locked > 20:
                    raise
                log.warning("dispatch round failed (%s); retrying", exc.orig)
                continue
            requests += report.requests
            for name in ("retried", "ambiguous", "reconciled", "failed", "withdrawn", "deferred"):
                if getattr(report, name):
                    unsure[name] = unsure.get(name, 0) + getattr(report, name)
            errors += report.errors[:5]
            if report.sent:
                sent, last_sent_at = sent + report.sent, time.time()
            if report.claimed == 0:
                if finished and _pending(runtime, channel) == 0:
                    break
                # nothing due: wait a little longer each empty round (20 ms up to 160 ms), so a
                # dispatcher waiting on a slow engine does not spend its CPU asking
                time.sleep(0.02 * 2 ** min(idle, 3))
                idle += 1
            else:
                idle = 0
    runtime.engine.dispose()
    if unsure:
        log.warning("%s dispatcher: %s; first errors: %s", channel, unsure, errors[:5])
    out.put(
        {
            "channel": channel,
            "sent": sent,
            "requests": requests,
            "last_sent_at": last_sent_at,
            "peak_rss_mb": peak_rss_mb(),
            "cpu_seconds": time.process_time() - cpu,
        }
    )


def _pending(runtime: Any, channel: str) -> int:
    with Session(runtime.engine) as session:
        query = select(func.count()).where(
            col(OutboxMessage.status).in_(PENDING), OutboxMessage.channel == channel
        )
        return int(session.exec(query).one())

"""One chaos trial: seed a restock wave, run the worker subprocess on a shared virtual
clock, SIGKILL it at random points of the run and restart it, move the clock on whenever
the worker reports nothing is due, then check the outcome (``check.check_run``)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from journeykit.delivery.reconcile import reconcile_windows
from journeykit.demo.webhooks import WebhookServer
from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import Enrollment, MessageEvent, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer
from journeykit.timing.clock import to_utc
from journeykit_rigs.chaos.check import Findings, check_run
from journeykit_rigs.chaos.clock import FileClock, write_atomic
from journeykit_rigs.chaos.process import Disruptor, KillPoints, WorkerProcess
from journeykit_rigs.chaos.workload import EXPECTED, seed_restock_wave

if TYPE_CHECKING:
    from journeykit_rigs.chaos.harness import ChaosConfig

POLL_S = 0.02


@dataclass
class TrialResult:
    trial: int
    kills: int
    db_restarts: int
    findings: Findings
    seconds: float


def run_trial(
    config: ChaosConfig, url: str, sandbox: SandboxServer, workdir: Path, rng: random.Random
) -> tuple[int, int, Findings]:
    """Seed, drive and check one trial on the empty database at ``url``; returns (kills,
    database restarts, findings)."""
    upgrade(url)
    engine = make_engine(url)
    # The sandbox paces its webhooks (20 ms between two, one at a time): thousands of SMS
    # status callbacks then hold the SendGrid events back for minutes of real time, which
    # the harness must wait out before it moves the clock. Send them as fast as taken.
    sandbox.app.state.sandbox.callbacks.step_delay_s = 0.0
    try:
        book = JourneyBook.from_dir(Settings().journeys_dir)
        start = seed_restock_wave(engine, book, config.customers)
        with WebhookServer(engine, url, sandbox.sendgrid_public_key) as web:
            sandbox.set_sendgrid_event_url(web.sendgrid_events_url)
            sandbox.start()
            worker = WorkerProcess(
                db_url=url,
                providers_url=sandbox.url,
                public_url=web.url,
                workdir=workdir,
                batch=config.batch,
                concurrency=config.concurrency,
                status_callbacks=config.sms_status_callbacks,
            )
            write_atomic(worker.clock_file, start.isoformat())
            clock = FileClock(worker.clock_file)
            kills, restarts = _drive(config, engine, clock, worker, rng, sandbox)
            findings = check_run(engine, sandbox.store, config.customers, clock.now())
            sandbox.stop()  # before the web app: its last webhooks still find it
            return kills, restarts, findings
    finally:
        sandbox.stop()
        engine.dispose()


def _drive(
    config: ChaosConfig,
    engine: Engine,
    clock: FileClock,
    worker: WorkerProcess,
    rng: random.Random,
    sandbox: SandboxServer,
) -> tuple[int, int]:
    """Run until nothing is left to do, killing the worker (and restarting the database)
    at random points; returns (kills, database restarts)."""

    def kill_and_restart() -> None:
        worker.kill()
        worker.start()

    # Kills land at random points of the run's progress (messages the providers accepted,
    # out of all that are due), so they spread over a run however long it takes.
    kills = KillPoints.draw(
        config.kills_per_trial, len(EXPECTED) * config.customers, kill_and_restart, rng
    )
    restarts = None
    if config.restart_database is not None:
        restarts = Disruptor(
            "db",
            config.db_restarts_per_trial,
            config.restart_database,
            config.max_kill_delay_s,
            rng,
        )
    deadline = time.monotonic() + config.trial_timeout_s
    worker.start()
    try:
        while time.monotonic() < deadline:
            worker.check_alive()
            status = worker.status()
            ready = status is not None
            if kills.poll(ready, sandbox.store.count()) or (restarts and restarts.poll(ready)):
                continue
            try:
                if status is not None and status.idle_at == clock.now().isoformat():
                    due = next_due(engine, clock.now())
                    if due is None:
                        return kills.fired, restarts.fired if restarts else 0
                    # Moving time on past a reconcile deadline stands for minutes of real
                    # time: let the webhooks for what the provider accepted arrive first.
                    _wait_for_webhooks(engine, sandbox)
                    clock.set(max(due, clock.now()))
            except DBAPIError:  # the database is restarting: look again in a moment
                time.sleep(0.2)
            time.sleep(POLL_S)
        raise TimeoutError(f"trial still running after {config.trial_timeout_s} s")
    finally:
        worker.stop()


def _wait_for_webhooks(engine: Engine, sandbox: SandboxServer, stalled_s: float = 120.0) -> None:
    """When emails are left in ``sending`` (their reconcile trusts SendGrid's events): wait
    until every email the sandbox accepted has its ``processed`` event stored. The events
    are on their way (the sandbox's callback queue drains in order, behind the SMS status
    callbacks): wait as long as they keep arriving, give up after ``stalled_s`` without one
    (the checker then reports what went wrong)."""
    last, last_change = -1, time.monotonic()
    while time.monotonic() - last_change < stalled_s:
        with Session(engine) as session:
            pending = session.exec(
                select(func.count()).where(
                    OutboxMessage.status == "sending", OutboxMessage.channel == "email"
                )
            ).one()
            stored = session.exec(
                select(func.count()).where(col(MessageEvent.kind) == "processed")
            ).one()
        if not pending or stored >= sandbox.store.count(provider="sendgrid"):
            return
        if stored != last:
            last, last_change = stored, time.monotonic()
        time.sleep(0.1)


def next_due(engine: Engine, now: datetime) -> datetime | None:
    """When something next becomes due: a wake time, a queued message, or a dead worker's
    lease running out. None: the run is over."""
    live = col(Enrollment.status).in_(("active", "waiting"))
    with Session(engine) as session:
        times = [
            session.exec(
                select(func.min(Enrollment.wake_at)).where(live, col(Enrollment.wake_at) > now)
            ).one(),
            session.exec(
                select(func.min(Enrollment.lease_until)).where(
                    live, col(Enrollment.wake_at) <= now, col(Enrollment.lease_until) >= now
                )
            ).one(),
            session.exec(
                select(func.min(OutboxMessage.due_at)).where(
                    OutboxMessage.status == "queued", col(OutboxMessage.due_at) > now
                )
            ).one(),
        ]
        windows = reconcile_windows(Settings())
        for channel, window in windows.items():
            sending = session.exec(
                select(func.min(OutboxMessage.last_attempt_at)).where(
                    OutboxMessage.status == "sending", OutboxMessage.channel == channel
                )
            ).one()
            if sending is not None:
                times.append(to_utc(sending) + window)
    present = [to_utc(t) for t in times if t is not None]
    return min(present) + timedelta(seconds=1) if present else None

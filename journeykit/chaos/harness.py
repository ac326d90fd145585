"""Run chaos trials: seed a restock wave, run the worker subprocess on a shared virtual
clock, SIGKILL it at random instants and restart it, move the clock on whenever the worker
reports nothing is due, then check the outcome (``check.check_run``)."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from journeykit.channels.reconcile import reconcile_windows
from journeykit.chaos.check import Findings, check_run
from journeykit.chaos.clock import FileClock, write_atomic
from journeykit.chaos.process import Disruptor, WorkerProcess
from journeykit.chaos.webhooks import WebhookServer
from journeykit.chaos.workload import seed_restock_wave
from journeykit.db import make_engine, upgrade
from journeykit.engine.book import JourneyBook
from journeykit.engine.clock import to_utc
from journeykit.models import Enrollment, MessageEvent, OutboxMessage
from journeykit.sandbox.faults import FaultConfig
from journeykit.sandbox.server import SandboxServer
from journeykit.settings import Settings

POLL_S = 0.01


@dataclass
class ChaosConfig:
    trials: int = 3
    customers: int = 300
    seed: int = 0
    kills_per_trial: int = 6
    max_kill_delay_s: float = 2.0  # each kill lands uniformly within this after start-up
    batch: int = 100
    latency_ms: float = 5.0  # provider answers take this long: kills land mid-request
    trial_timeout_s: float = 3600.0
    database_url: Callable[[int], str] | None = None  # trial -> empty database; None: SQLite
    restart_database: Callable[[], None] | None = None  # stop + start the database server
    db_restarts_per_trial: int = 0


@dataclass
class ChaosReport:
    config: ChaosConfig
    trials: int = 0
    kills: int = 0
    db_restarts: int = 0
    findings: Findings = field(default_factory=Findings)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        f = self.findings
        return {
            "trials": self.trials,
            "customers": self.config.customers,
            "seed": self.config.seed,
            "kills": self.kills,
            "db_restarts": self.db_restarts,
            "duplicates": f.duplicates,
            "lost": f.lost,
            "stuck": f.stuck,
            "half_written": f.half_written,
            "messages_sent": f.sent,
            "seconds": round(self.seconds, 1),
            "examples": f.examples,
        }


def run_chaos(
    config: ChaosConfig, on_trial: Callable[[int, int, Findings], None] | None = None
) -> ChaosReport:
    report = ChaosReport(config)
    started = time.monotonic()
    faults = FaultConfig(latency_ms=config.latency_ms)
    with tempfile.TemporaryDirectory(prefix="jk-chaos-") as tmp:
        for trial in range(config.trials):
            # A sandbox per trial: its webhook queue must not carry the last trial's backlog
            # (to a web app that is gone) in front of this trial's events.
            sandbox = SandboxServer(faults=faults)
            workdir = Path(tmp) / f"trial-{trial}"
            workdir.mkdir()
            url = (
                config.database_url(trial)
                if config.database_url
                else f"sqlite:///{workdir}/journeykit.db"
            )
            rng = random.Random(config.seed * 100_003 + trial)
            kills, restarts, findings = run_trial(config, url, sandbox, workdir, rng)
            report.trials += 1
            report.kills += kills
            report.db_restarts += restarts
            for name in ("duplicates", "lost", "stuck", "half_written", "sent"):
                setattr(
                    report.findings, name, getattr(report.findings, name) + getattr(findings, name)
                )
            report.findings.examples += [f"trial {trial}: {e}" for e in findings.examples]
            if on_trial:
                on_trial(trial, kills, findings)
    report.seconds = time.monotonic() - started
    return report


def run_trial(
    config: ChaosConfig, url: str, sandbox: SandboxServer, workdir: Path, rng: random.Random
) -> tuple[int, int, Findings]:
    upgrade(url)
    engine = make_engine(url)
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
    at random instants; returns (kills, database restarts)."""

    def kill_and_restart() -> None:
        worker.kill()
        worker.start()

    faults = [
        Disruptor("kill", config.kills_per_trial, kill_and_restart, config.max_kill_delay_s, rng)
    ]
    if config.restart_database is not None:
        faults.append(
            Disruptor(
                "db",
                config.db_restarts_per_trial,
                config.restart_database,
                config.max_kill_delay_s,
                rng,
            )
        )
    deadline = time.monotonic() + config.trial_timeout_s
    worker.start()
    try:
        while time.monotonic() < deadline:
            worker.check_alive()
            status = worker.status()
            if any(f.poll(status is not None) for f in faults):
                continue
            try:
                if status is not None and status.idle_at == clock.now().isoformat():
                    due = next_due(engine, clock.now())
                    if due is None:
                        return faults[0].fired, faults[-1].fired if len(faults) > 1 else 0
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


def _wait_for_webhooks(engine: Engine, sandbox: SandboxServer, timeout_s: float = 60.0) -> None:
    """When emails are left in ``sending`` (their reconcile trusts SendGrid's events): wait
    until every email the sandbox accepted has its ``processed`` event stored."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
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
        time.sleep(0.05)


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

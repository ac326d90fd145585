"""Run chaos trials (``trial.run_trial``), one after another or several at once in their
own processes, and add up what they found: kills, database restarts, duplicates, losses,
stuck and half-written rows."""

from __future__ import annotations

import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from journeykit.sandbox.faults import FaultConfig
from journeykit.sandbox.server import SandboxServer
from journeykit_rigs.chaos.check import Findings
from journeykit_rigs.chaos.trial import TrialResult, next_due, run_trial

__all__ = ["ChaosConfig", "ChaosReport", "next_due", "run_chaos", "run_one"]

COUNTS = ("duplicates", "lost", "stuck", "half_written", "sent")


@dataclass
class ChaosConfig:
    trials: int = 3
    customers: int = 300
    seed: int = 0
    kills_per_trial: int = 6  # at random points of each trial's progress (trial.py)
    max_kill_delay_s: float = 2.0  # each database restart lands within this of the last
    batch: int = 500  # enrollments claimed / messages sent per worker pass
    concurrency: int = 32  # provider requests in flight per worker
    parallel: int = 1  # trials run at once, each in its own process (SQLite only)
    # Twilio posts each SMS's status to the web app (two writes per SMS beside the worker's);
    # the checks do not rely on them (SMS reconcile asks Twilio's message list)
    sms_status_callbacks: bool = True
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
    trial_seconds: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0  # this process and every process it waited for

    def add(self, result: TrialResult) -> None:
        self.trials += 1
        self.kills += result.kills
        self.db_restarts += result.db_restarts
        for name in COUNTS:
            total = getattr(self.findings, name) + getattr(result.findings, name)
            setattr(self.findings, name, total)
        self.findings.examples += [f"trial {result.trial}: {e}" for e in result.findings.examples]
        self.trial_seconds.append(round(result.seconds, 1))

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
            "cpu_seconds": round(self.cpu_seconds, 1),
            "trial_seconds": self.trial_seconds,
            "parallel": self.config.parallel,
            "batch": self.config.batch,
            "concurrency": self.config.concurrency,
            "sms_status_callbacks": self.config.sms_status_callbacks,
            "examples": f.examples,
        }


def run_chaos(
    config: ChaosConfig, on_trial: Callable[[int, int, Findings], None] | None = None
) -> ChaosReport:
    """Every trial on a fresh database; ``on_trial(trial, kills, findings)`` as each ends."""
    if config.parallel > 1 and (config.database_url or config.restart_database):
        raise ValueError("parallel trials run on SQLite only: leave database_url unset")
    report = ChaosReport(config)
    started, cpu_before = time.monotonic(), _cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="jk-chaos-") as tmp:
        for result in _results(config, Path(tmp)):
            report.add(result)
            if on_trial:
                on_trial(result.trial, result.kills, result.findings)
    report.seconds = time.monotonic() - started
    report.cpu_seconds = _cpu_seconds() - cpu_before
    return report


def _results(config: ChaosConfig, tmp: Path) -> Iterator[TrialResult]:
    if config.parallel <= 1 or config.trials == 1:
        for trial in range(config.trials):
            yield run_one(config, trial, tmp)
        return
    # spawn: a fresh interpreter per process, not a fork of one running server threads
    context = get_context("spawn")
    # one trial per process: a trial's memory goes back with the process, not kept by a
    # long-lived pool process
    with ProcessPoolExecutor(config.parallel, mp_context=context, max_tasks_per_child=1) as pool:
        plain = replace(config, database_url=None, restart_database=None)
        futures = [pool.submit(run_one, plain, trial, tmp) for trial in range(config.trials)]
        for future in as_completed(futures):
            yield future.result()


def run_one(config: ChaosConfig, trial: int, tmp: Path) -> TrialResult:
    """One trial in ``tmp``/trial-N, with its own provider sandbox (its webhook queue must
    not carry another trial's backlog) and its own random kill points."""
    started = time.monotonic()
    sandbox = SandboxServer(faults=FaultConfig(latency_ms=config.latency_ms))
    workdir = tmp / f"trial-{trial}"
    workdir.mkdir()
    url = (
        config.database_url(trial) if config.database_url else f"sqlite:///{workdir}/journeykit.db"
    )
    rng = random.Random(config.seed * 100_003 + trial)
    kills, restarts, findings = run_trial(config, url, sandbox, workdir, rng)
    return TrialResult(trial, kills, restarts, findings, time.monotonic() - started)


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime

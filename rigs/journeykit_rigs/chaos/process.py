"""A chaos worker subprocess (start it, see when it is ready, SIGKILL it, stop it), and the
faults fired at random instants while it runs (SIGKILL it, restart the database)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from journeykit_rigs.chaos.clock import WorkerStatus


class WorkerCrashed(RuntimeError):
    """The worker exited without being killed (its stderr tells why)."""


class WorkerProcess:
    def __init__(
        self,
        *,
        db_url: str,
        providers_url: str,
        public_url: str,
        workdir: Path,
        batch: int,
        concurrency: int = 8,
        status_callbacks: bool = True,
    ) -> None:
        self.workdir = workdir
        self.clock_file = workdir / "clock.txt"
        self.status_file = workdir / "status.json"
        self.stderr_file = workdir / "worker.log"
        self.command = [
            sys.executable,
            "-m",
            "journeykit_rigs.chaos.worker",
            "--db",
            db_url,
            "--providers",
            providers_url,
            "--clock",
            str(self.clock_file),
            "--status",
            str(self.status_file),
            "--public-url",
            public_url,
            "--batch",
            str(batch),
            "--concurrency",
            str(concurrency),
            *([] if status_callbacks else ["--no-status-callbacks"]),
        ]
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        self.status_file.unlink(missing_ok=True)
        with self.stderr_file.open("ab") as log:
            self._proc = subprocess.Popen(
                self.command, stdout=subprocess.DEVNULL, stderr=log, env=_worker_env()
            )
        self.starts += 1

    def status(self) -> WorkerStatus | None:
        """The running worker's last report (None before it is ready)."""
        found = WorkerStatus.read(self.status_file)
        return found if found is not None and found.pid == self.pid else None

    def check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            tail = self.stderr_file.read_text(errors="replace")[-3000:]
            raise WorkerCrashed(f"worker exited with {self._proc.returncode}:\n{tail}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, no goodbye."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait(30)
            self._proc = None

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        self._proc = None


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("JOURNEYKIT_WEB__SIGNING_SECRET", "chaos-signing-secret")
    return env


@dataclass
class Disruptor:
    """Fires ``action`` up to ``limit`` times per trial, each time uniformly within
    ``max_delay_s`` of the worker being ready (or of the previous firing)."""

    name: str
    limit: int
    action: Callable[[], None]
    max_delay_s: float
    rng: random.Random
    fired: int = 0
    _at: float | None = None

    def poll(self, worker_ready: bool) -> bool:
        """Fire when due; True when it did (the caller looks at the world afresh)."""
        if self._at is None and worker_ready and self.fired < self.limit:
            self._at = time.monotonic() + self.rng.uniform(0.0, self.max_delay_s)
        if self._at is not None and time.monotonic() >= self._at:
            self._at = None
            self.fired += 1
            self.action()
            return True
        return False


@dataclass
class KillPoints:
    """Fires ``action`` once at each of ``points``: a count of the run's progress (messages
    the providers accepted), drawn uniformly below the total due. A point fires when the
    progress has reached it and the worker is up, so the kills spread over the whole run
    whatever its speed, and every one of them fires before the run can end."""

    action: Callable[[], None]
    points: list[int] = field(default_factory=list)
    fired: int = 0

    @classmethod
    def draw(
        cls, limit: int, total: int, action: Callable[[], None], rng: random.Random
    ) -> KillPoints:
        return cls(action, sorted(rng.randrange(max(1, total)) for _ in range(limit)))

    def poll(self, worker_ready: bool, progress: int) -> bool:
        """Fire when due; True when it did (the caller looks at the world afresh)."""
        if worker_ready and self.fired < len(self.points) and progress >= self.points[self.fired]:
            self.fired += 1
            self.action()
            return True
        return False

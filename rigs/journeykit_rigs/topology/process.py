"""One process of the topology: started in its own session (so a signal reaches its children
too: ``prefect server start`` runs uvicorn as a child, a worker runs each flow run as one),
its output in a log file, waited for until healthy, stopped, SIGKILLed, and its log's tail
shown when something fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class ProcessFailed(RuntimeError):
    """A process exited or did not become healthy in time (the message has its log's tail)."""


class ManagedProcess:
    def __init__(
        self, name: str, command: Sequence[str], *, env: dict[str, str], cwd: Path, logs: Path
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = env
        self.cwd = cwd
        self.log_file = logs / f"{name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> ManagedProcess:
        with self.log_file.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1}: {' '.join(self.command)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    def wait_until(self, healthy: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll ``healthy`` until it is true; fail with the log's tail when the process exits
        or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.running():
                raise ProcessFailed(f"{self.name} exited before {what}:\n{self.tail()}")
            try:
                if healthy():
                    return
            except Exception:  # not up yet: refused connections, 5xx, partial output
                pass
            if time.monotonic() > deadline:
                raise ProcessFailed(
                    f"{self.name}: no {what} within {timeout_s:.0f} s:\n{self.tail()}"
                )
            time.sleep(0.5)

    def descendants(self) -> set[int]:
        """The pids of every process this one started, however deep (a worker's flow-run
        processes run in sessions of their own, so its process group misses them)."""
        return descendants(self._proc.pid) if self._proc is not None else set()

    def kill(self) -> None:
        """SIGKILL to the process, its group and every descendant: no cleanup, no goodbye."""
        if self._proc is not None:
            children = self.descendants()
            _signal_group(self._proc.pid, signal.SIGKILL)
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._proc.wait(30)
            self._proc = None

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM to the group, then SIGKILL after ``grace_s``."""
        if self._proc is None:
            return
        children = self.descendants()  # some start sessions of their own (flow runs)
        if self._proc.poll() is None:
            _signal_group(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(grace_s)
            except subprocess.TimeoutExpired:
                with self.log_file.open("ab") as log:
                    log.write(f"\n=== no exit {grace_s:.0f} s after SIGTERM: SIGKILL\n".encode())
        _signal_group(self._proc.pid, signal.SIGKILL)  # stragglers of the group
        for pid in children:  # orphaned by now: reparented, so only the list we took finds them
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._proc.wait(30)
        self._proc = None

    def tail(self, chars: int = 4000) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return self.log_file.read_text(errors="replace")[-chars:]


def descendants(root: int) -> set[int]:
    """Every live descendant of ``root``, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            parents[int(stat.parent.name)] = int(fields[1])  # state, then ppid
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def run_step(
    name: str,
    command: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path,
    logs: Path,
    timeout_s: float,
) -> str:
    """Run one ops command to its end (``journeys db upgrade``, ``journeys deploy``); its output
    goes to ``logs/<name>.log`` and is returned; a non-zero exit fails with it."""
    done = subprocess.run(
        list(command),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    output = done.stdout + done.stderr
    (logs / f"{name}.log").write_text(f"$ {' '.join(command)}\n{output}")
    if done.returncode != 0:
        raise ProcessFailed(f"{name} exited with {done.returncode}:\n{output[-4000:]}")
    return output

"""The clock a chaos worker shares with its harness: a virtual time kept in a file (the
harness moves it, the worker reads it once per loop), and the worker's "idle at" report."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from journeykit.timing.clock import to_utc


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class FileClock:
    """A ``Clock`` whose time is read from a file on ``refresh`` (and fixed in between)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._now = self.read()

    def read(self) -> datetime:
        return to_utc(datetime.fromisoformat(self.path.read_text().strip()))

    def refresh(self) -> datetime:
        self._now = self.read()
        return self._now

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move the shared time (the harness side)."""
        write_atomic(self.path, to_utc(when).isoformat())
        self._now = to_utc(when)


@dataclass(frozen=True)
class WorkerStatus:
    """What a worker last said: its pid, and the virtual time at which it found nothing to
    do (None while it has not been idle yet)."""

    pid: int
    idle_at: str | None

    @classmethod
    def read(cls, path: Path) -> WorkerStatus | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return cls(int(data["pid"]), data.get("idle_at"))

    def write(self, path: Path) -> None:
        write_atomic(path, json.dumps({"pid": self.pid, "idle_at": self.idle_at}))

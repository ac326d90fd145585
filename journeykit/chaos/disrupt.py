"""Faults fired at random instants while the chaos worker runs: SIGKILL the worker, restart
the database. Each fires up to ``limit`` times per trial, each time uniformly within
``max_delay_s`` of the worker being ready (or of the previous firing)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Disruptor:
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

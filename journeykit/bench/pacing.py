"""Time for benchmarks that run in real time across processes: a clock that starts at a
fixed instant (outside SMS quiet hours) and runs at wall speed, and a stand-in for the
provider rate limits when no Prefect API is configured."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from journeykit.channels.ratelimit import email_limit, sms_limit
from journeykit.settings import Settings


class ShiftedClock:
    """``start`` + the wall time elapsed since ``epoch`` (a ``time.time()`` value shared by
    every process of one run, so they agree on "now")."""

    def __init__(self, start: datetime, epoch: float) -> None:
        self.start, self.epoch = start, epoch

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.epoch)


class Pacer:
    """The configured throughput limits (``sms_per_second`` per sender,
    ``email_requests_per_second``) as an in-process schedule: each request waits for the next
    free slot of its channel. Production enforces the same numbers across workers with
    Prefect global concurrency limits (:mod:`journeykit.channels.ratelimit`); this stand-in
    lets the benchmark run without a Prefect server."""

    def __init__(self, settings: Settings) -> None:
        self.interval = {
            "sms": 1.0 / sms_limit(settings).per_second,
            "email": 1.0 / email_limit(settings).per_second,
        }
        self._next = {"sms": 0.0, "email": 0.0}
        self._lock = threading.Lock()

    def __call__(self, channel: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next[channel])
            self._next[channel] = slot + self.interval[channel]
        if slot > now:
            time.sleep(slot - now)


def floor_seconds(settings: Settings, sms_requests: int, email_requests: int) -> float:
    """The least time the rate limits allow for these requests (the channels run in
    parallel, so the slower one sets the floor)."""
    return max(
        sms_requests / sms_limit(settings).per_second,
        email_requests / email_limit(settings).per_second,
    )

"""Time for benchmarks that run in real time across processes: a clock that starts at a
fixed instant (outside SMS quiet hours) and runs at wall speed, and a stand-in for the
provider rate limits when no Prefect API is configured."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from journeykit.delivery.ratelimit import email_limit, sms_limit
from journeykit.foundation.settings import Settings


class ShiftedClock:
    """``start`` + the wall time elapsed since ``epoch`` (a ``time.time()`` value shared by
    every process of one run, so they agree on "now")."""

    def __init__(self, start: datetime, epoch: float) -> None:
        self.start, self.epoch = start, epoch

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.time() - self.epoch)


class Pacer:
    """The configured throughput limits (``sms_per_second`` per sender,
    ``email_requests_per_second``) in-process, shaped like the production limiter: Prefect
    global concurrency limits with about one second's worth of slots that free up at the rate
    (:mod:`journeykit.delivery.ratelimit`), i.e. a token bucket holding one second of requests.
    A dispatcher that paused between rounds may catch up by at most that second, as in
    production; the long-run rate never exceeds the limit. Lets the benchmark run without a
    Prefect server."""

    def __init__(
        self,
        settings: Settings,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = {"sms": sms_limit(settings), "email": email_limit(settings)}
        self._monotonic, self._sleep = monotonic, sleep
        self._tokens = {channel: float(rl.limit) for channel, rl in self.limits.items()}
        self._at = {channel: monotonic() for channel in self.limits}
        self._lock = threading.Lock()

    def __call__(self, channel: str) -> None:
        rate, capacity = self.limits[channel].per_second, float(self.limits[channel].limit)
        with self._lock:
            now = self._monotonic()
            tokens = min(capacity, self._tokens[channel] + (now - self._at[channel]) * rate)
            tokens -= 1.0  # taken now; below zero means a wait for the slot to free up
            self._tokens[channel], self._at[channel] = tokens, now
        if tokens < 0:
            self._sleep(-tokens / rate)


def floor_seconds(settings: Settings, sms_requests: int, email_requests: int) -> float:
    """The least time the rate limits allow for these requests (the channels run in
    parallel, so the slower one sets the floor)."""
    return max(
        sms_requests / sms_limit(settings).per_second,
        email_requests / email_limit(settings).per_second,
    )

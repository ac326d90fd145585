"""The benchmark's stand-in rate limiter: a token bucket of one second's worth, like the
production Prefect limits (slots = one second's allowance, freed at the rate)."""

from __future__ import annotations

import pytest
from journeykit_rigs.bench.pacing import Pacer

from journeykit.foundation.settings import Settings


class FakeTime:
    """A clock that only moves when the pacer sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def pacer(time: FakeTime, sms: float = 10.0) -> Pacer:
    settings = Settings().with_changes(
        {"sending.sms_per_second": sms, "sending.email_requests_per_second": 2.0}
    )
    return Pacer(settings, monotonic=time.monotonic, sleep=time.sleep)


def test_a_seconds_worth_goes_at_once_then_the_rate_holds() -> None:
    time = FakeTime()
    limit = pacer(time)
    for _ in range(40):
        limit("sms")
    # The bucket starts full (ten go at once), then 30 more at 10/s, never faster.
    assert len(time.sleeps) == 30 and time.now == pytest.approx(3.0)
    assert all(s == pytest.approx(0.1) for s in time.sleeps)


def test_a_pause_is_made_up_for_by_at_most_one_second() -> None:
    time = FakeTime()
    limit = pacer(time)
    for _ in range(10):
        limit("sms")
    time.now += 60.0  # the dispatcher did something else for a minute
    start = time.now
    for _ in range(25):
        limit("sms")
    assert time.now - start == pytest.approx(1.5)  # 10 at once (not 600), then 15 at 10/s


def test_channels_have_their_own_buckets() -> None:
    time = FakeTime()
    limit = pacer(time)
    for _ in range(10):
        limit("sms")
    limit("email")
    limit("email")
    assert time.sleeps == []
    limit("email")
    assert time.sleeps == [pytest.approx(0.5)]

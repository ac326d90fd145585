"""Provider throughput limits as Prefect global concurrency limits with slot decay: created
idempotently, enforced through ``Senders.before_send`` across processes; no limiter when no
Prefect API is configured."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from journeykit.delivery.ratelimit import (
    email_limit,
    ensure_rate_limits,
    limiter_for,
    rate_limits,
    sms_limit,
)
from journeykit.foundation.settings import Settings


def settings(**sending: object) -> Settings:
    """Settings with these ``sending`` settings."""
    return Settings().with_changes({f"sending.{name}": v for name, v in sending.items()})


def test_one_limit_per_provider_and_sender() -> None:
    s = settings(
        sms_from="+15005550006",
        sms_per_second=1,
        sms_per_second_by_sender={"MG0123456789abcdef": 30.0},
        email_requests_per_second=10,
    )
    names = {rl.name: (rl.limit, rl.slot_decay_per_second) for rl in rate_limits(s)}
    assert names == {
        "journeykit-email-sendgrid": (10, 10.0),
        "journeykit-sms-15005550006": (1, 1.0),
        "journeykit-sms-MG0123456789abcdef": (30, 30.0),
    }
    assert sms_limit(s, "MG0123456789abcdef").per_second == 30.0
    assert email_limit(settings(email_requests_per_second=0.5)).limit == 1


def test_no_prefect_api_means_no_limiter() -> None:
    assert limiter_for(settings()) is None


@pytest.fixture(scope="module")
def prefect_api() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.mark.prefect
def test_limits_are_created_idempotently_and_enforced(prefect_api: None) -> None:
    from prefect.client.orchestration import get_client

    s = settings(sms_per_second=1.0, email_requests_per_second=0.05, rate_limit_timeout_seconds=1.0)
    ensure_rate_limits(s)
    ensure_rate_limits(s)  # twice: no error, same limits
    faster = settings(
        sms_per_second=3.0, email_requests_per_second=0.05, rate_limit_timeout_seconds=1
    )
    ensure_rate_limits(faster)
    with get_client(sync_client=True) as client:
        sms = client.read_global_concurrency_limit_by_name("journeykit-sms-15005550006")
        email = client.read_global_concurrency_limit_by_name("journeykit-email-sendgrid")
    assert (sms.limit, sms.slot_decay_per_second, sms.active) == (3, 3.0, True)
    assert (email.limit, email.slot_decay_per_second) == (1, 0.05)

    before_send = limiter_for(faster)
    assert before_send is not None
    before_send("email")  # the one slot
    with pytest.raises(TimeoutError):
        before_send("email")  # the next frees up in 20 s: the wait gives up after 1 s


def test_slot_pool_takes_a_quarter_seconds_worth_per_round_trip() -> None:
    from journeykit.delivery.ratelimit import RateLimit, SlotPool

    taken: list[tuple[str, int]] = []

    def take(name: str, *, occupy: int, timeout_seconds: float, strict: bool) -> None:
        assert strict and timeout_seconds == 5.0
        taken.append((name, occupy))

    pool = SlotPool(RateLimit("journeykit-sms-x", 20.0), 5.0, take)
    for _ in range(12):
        pool()
    assert taken == [("journeykit-sms-x", 5)] * 3  # 12 sends: 3 round trips of 5 slots
    slow = SlotPool(RateLimit("journeykit-sms-y", 1.0), 5.0, take)
    slow()
    slow()
    assert taken[-2:] == [("journeykit-sms-y", 1)] * 2  # never more than the limit holds


def test_slot_pool_waits_for_a_prefect_server_that_is_away() -> None:
    """A restarting server refuses connections for a few seconds: the slot is taken once it
    answers (nothing was sent meanwhile); one away for longer than the timeout fails."""
    from journeykit.delivery.ratelimit import RateLimit, SlotPool

    now = [0.0]
    refusals = [2]

    def take(name: str, *, occupy: int, timeout_seconds: float, strict: bool) -> None:
        if refusals[0]:
            refusals[0] -= 1
            try:  # as Prefect raises it: its acquisition error, caused by the client's
                raise httpx.ConnectError("[Errno 111] Connection refused")
            except httpx.ConnectError as refused:
                raise RuntimeError("Unable to acquire concurrency slots") from refused

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pool = SlotPool(RateLimit("journeykit-email-sendgrid", 10.0), 5.0, take,
                    sleep=sleep, monotonic=lambda: now[0])  # fmt: skip
    pool()
    assert (refusals[0], now[0]) == (0, 2.0)  # two tries a second apart, then the slot

    refusals[0] = 100
    away = SlotPool(RateLimit("journeykit-sms-z", 10.0), 5.0, take,
                    sleep=sleep, monotonic=lambda: now[0])  # fmt: skip
    with pytest.raises(RuntimeError):
        away()
    assert now[0] <= 2.0 + 5.0  # gave up within its timeout


@pytest.mark.prefect
def test_worker_senders_ensure_their_limits_and_use_them(prefect_api: None) -> None:
    from prefect.client.orchestration import get_client

    from journeykit.delivery.providers.from_settings import build_senders

    s = settings(sms_from="+15005550123", sms_per_second=4.0)
    senders = build_senders(s)
    assert senders.before_send is not None
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name("journeykit-sms-15005550123")
    assert (limit.limit, limit.slot_decay_per_second) == (4, 4.0)
    senders.before_send("sms")  # a slot of the limit just created


@pytest.mark.prefect
def test_workers_starting_together_create_each_limit_once(prefect_api: None) -> None:
    """Prefect's upsert reads, then creates: a worker that loses the race to create a limit
    gets ObjectAlreadyExists and must update it instead (the slow suite's scale-out bench
    lost a worker to it on CI)."""
    from concurrent.futures import ThreadPoolExecutor

    from prefect.client.orchestration import get_client

    for trial in range(6):
        s = settings(sms_from=f"+1500555{trial:04d}", sms_per_second=2.0 + trial)
        with ThreadPoolExecutor(8) as pool:
            done = list(pool.map(ensure_rate_limits, [s] * 8))
        assert all(limits == rate_limits(s) for limits in done)
        with get_client(sync_client=True) as client:
            sms = client.read_global_concurrency_limit_by_name(sms_limit(s).name)
        assert (sms.limit, sms.active) == (2 + trial, True)

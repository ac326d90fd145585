"""The outbox row only moves forward; retries back off with jitter and honour hints."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeykit.delivery.providers.base import SendResult
from journeykit.delivery.retry import RetryPolicy
from journeykit.delivery.states import ALLOWED_FROM, FINAL, StatusError, may_move, move
from journeykit.foundation.db import session_scope
from tests.delivery.conftest import Outbox

ORDER = ["queued", "sending", "sent", "delivered"]


def test_final_states_go_nowhere() -> None:
    for final in FINAL - {"delivered"}:
        assert not any(may_move(final, target) for target in ALLOWED_FROM if target != "bounced")
    assert may_move("delivered", "bounced")  # a late bounce report is still news
    assert not may_move("delivered", "sent") and not may_move("sent", "sending")
    assert not may_move("sent", "queued") and not may_move("failed", "queued")


def test_unknown_status_is_named() -> None:
    with pytest.raises(StatusError, match="'shipped'"):
        may_move("queued", "shipped")


def test_move_refuses_backwards_and_changes_nothing(outbox: Outbox) -> None:
    row_id = outbox.row("sms")
    with session_scope(outbox.engine) as s:
        assert move(s, row_id, "sending")
        assert move(s, row_id, "sent", provider_id="SM1")
        assert move(s, row_id, "delivered")
        assert not move(s, row_id, "sent", provider_id="SM2")
        assert not move(s, row_id, "queued")
    row = outbox.get(row_id)
    assert row.status == "delivered" and row.provider_id == "SM1"


@given(st.integers(0, 30), st.none() | st.floats(0, 3600))
def test_backoff_bounds(attempts: int, hint: float | None) -> None:
    policy = RetryPolicy(max_backoff_s=600)
    wait = policy.backoff(attempts, hint, random.Random(attempts))
    if hint is None:
        assert timedelta(seconds=1) <= wait <= timedelta(seconds=600)
    else:
        assert wait >= timedelta(seconds=max(1.0, hint))  # never earlier than asked
        assert wait <= timedelta(seconds=max(1.0, hint) + hint * 0.2 + 1.0)


def test_backoff_is_jittered_and_grows() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    first = {policy.backoff(1, None, rng) for _ in range(20)}
    assert len(first) > 10  # jitter: workers do not retry in lockstep
    assert max(policy.backoff(8, None, rng) for _ in range(50)) > max(first)


@pytest.mark.parametrize(
    ("outcome", "attempts", "retry"),
    [("retry", 1, True), ("retry", 8, False), ("permanent", 1, False), ("ambiguous", 1, False)],
)
def test_only_sure_failures_are_retried(outcome: str, attempts: int, retry: bool) -> None:
    result = SendResult(outcome)  # type: ignore[arg-type]
    assert RetryPolicy(max_attempts=8).should_retry(result, attempts) is retry


def test_a_webhook_that_overtook_the_answer_keeps_its_status_and_gets_the_id(
    outbox: Outbox,
) -> None:
    from journeykit.delivery.record import Attempt, DispatchReport, record_attempt

    row_id = outbox.row("sms")
    with session_scope(outbox.engine) as s:
        move(s, row_id, "sending")
        move(s, row_id, "delivered")  # the status callback arrived first
    row = outbox.get(row_id)
    report = DispatchReport()
    with session_scope(outbox.engine) as s:
        attempt = Attempt(SendResult("sent", provider_id="SM9"), outbox.clock.now())
        record_attempt(s, outbox.clock.now(), row, attempt, report, RetryPolicy())
    row = outbox.get(row_id)
    assert row.status == "delivered" and row.provider_id == "SM9" and report.sent == 1


def test_sent_in_bulk_with_the_same_guards(outbox: Outbox) -> None:
    from journeykit.delivery.states import mark_sent_many

    sending, overtaken, known, queued = (outbox.row("sms") for _ in range(4))
    with session_scope(outbox.engine) as s:
        for row_id in (sending, overtaken, known):
            move(s, row_id, "sending")
        move(s, overtaken, "delivered")  # a status callback came first
        move(s, known, "delivered", provider_id="SM-known")
    now = outbox.clock.now()
    with session_scope(outbox.engine) as s:
        pairs = [(sending, "SM1"), (overtaken, "SM2"), (known, "SM3"), (queued, "SM4")]
        mark_sent_many(s, now, pairs)
    got = {i: outbox.get(i) for i in (sending, overtaken, known, queued)}
    assert (got[sending].status, got[sending].provider_id) == ("sent", "SM1")
    assert got[sending].sent_at is not None
    assert (got[overtaken].status, got[overtaken].provider_id) == ("delivered", "SM2")
    assert (got[known].status, got[known].provider_id) == ("delivered", "SM-known")
    assert got[queued].status == "queued"  # not moved: only sending rows become sent

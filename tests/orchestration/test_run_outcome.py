"""A run with failed sends ends Failed (named), one with messages left to retry or failed
enrollments in a named Completed state; only a clean run is plain Completed."""

from __future__ import annotations

from journeykit.orchestration.run_outcome import (
    ENROLLMENTS_FAILED,
    FAILED_SENDS,
    SENDS_TO_RETRY,
    run_outcome,
)


def counts(**changes: int) -> dict[str, int]:
    return {"claimed": 3, "moves": 5, "queued": 2, "sent": 1, "failed": 0, "to_retry": 0,
            "errors": 0, **changes}  # fmt: skip


def test_failed_sends_fail_the_run() -> None:
    state = run_outcome(counts(failed=1, errors=1))
    assert not isinstance(state, dict)
    assert state.is_failed() and state.name == FAILED_SENDS
    assert state.message and state.message.startswith("1 sends failed (claimed: 3")


def test_messages_to_retry_and_failed_enrollments_are_named() -> None:
    retry = run_outcome(counts(to_retry=2, errors=2))
    assert not isinstance(retry, dict)
    assert retry.is_completed() and retry.name == SENDS_TO_RETRY
    broken = run_outcome(counts(errors=1))
    assert not isinstance(broken, dict)
    assert broken.is_completed() and broken.name == ENROLLMENTS_FAILED


def test_a_clean_run_returns_its_counts() -> None:
    assert run_outcome(counts()) == counts()

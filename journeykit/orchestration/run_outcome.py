"""How a Journeykit flow run ends, so a run with failed sends never looks like a green
Completed: failed sends end the run ``Failed`` (named ``Failed sends``), messages left for a
retry end it ``Completed`` named ``Sends to retry``, enrollments that failed end it
``Completed`` named ``Enrollments failed`` (the counts stay their result; a failed run's
message carries them). The names are what the automations (orchestration/automations.py)
listen for: a state's event is ``prefect.flow-run.<state name>``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from prefect.states import Completed, Failed, State

FAILED_SENDS = "Failed sends"
SENDS_TO_RETRY = "Sends to retry"
ENROLLMENTS_FAILED = "Enrollments failed"


def run_outcome(counts: dict[str, int]) -> State[Any] | dict[str, int]:
    """The state to return from a flow, given what ``run_batch`` counted (``failed``,
    ``to_retry``, ``errors``); the plain counts when all went well."""
    failed, to_retry = counts.get("failed", 0), counts.get("to_retry", 0)
    others = counts.get("errors", 0) - failed - to_retry
    summary = ", ".join(f"{k}: {v}" for k, v in counts.items())
    if failed:
        return Failed(name=FAILED_SENDS, message=f"{failed} sends failed ({summary})", data=counts)
    if to_retry:
        message = f"{to_retry} messages wait for a retry ({summary})"
        return Completed(name=SENDS_TO_RETRY, message=message, data=counts)
    if others > 0:
        message = f"{others} enrollments failed ({summary})"
        return Completed(name=ENROLLMENTS_FAILED, message=message, data=counts)
    return counts


def outcome_counts(state: State[Any]) -> dict[str, int]:
    """The counts a flow run returned, whatever state it ended in (``Failed sends`` too), for
    callers that run a flow in-process (``return_state=True``); a run that failed with an
    exception raises it."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    return dict(result)


def run_in_process(call: Awaitable[State[Any]]) -> State[Any]:
    """Run an async flow called with ``return_state=True`` here, to its final state."""

    async def final() -> State[Any]:
        return await call

    return asyncio.run(final())

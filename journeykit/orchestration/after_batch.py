"""What every batch does at its end (a journey's wake-up run, an event run, the safety sweep):
schedule the wake-up runs of the due work it knows of (:mod:`.wakeups`) and raise the
backlog alert when due work is late (:mod:`.backlog`).

Both talk to the Prefect API; neither may fail the batch, whose work is committed: a
failure is logged as a warning and the safety sweep does both again."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from prefect.client.orchestration import get_client

from journeykit.engine.runtime import Runtime
from journeykit.orchestration.backlog import LateWork, emit_late, late_work
from journeykit.orchestration.wakeups import DueMinute, schedule_wakeups

log = logging.getLogger(__name__)


@dataclass
class Lookahead:
    """The wake-ups created and the late journeys seen at the end of a batch."""

    scheduled: list[DueMinute] = field(default_factory=list)
    late: list[LateWork] = field(default_factory=list)


def after_batch(runtime: Runtime, journeys: Iterable[str] | None = None) -> Lookahead:
    """Schedule the wake-ups of ``journeys`` (None: every journey) within the horizon and
    emit ``journeykit.backlog.late`` for each late journey (of all of them)."""
    schedule = runtime.settings.schedule
    done = Lookahead()
    scope = None if journeys is None else set(journeys)
    try:
        done.late = late_work(
            runtime.engine,
            runtime.clock.now(),
            timedelta(seconds=schedule.backlog_alert_seconds),
        )
        emit_late(done.late)
    except Exception as exc:  # an alert that cannot be measured must not fail the batch
        log.warning("could not measure the backlog: %s", exc)
    if scope is not None and not scope:
        return done
    try:
        with get_client(sync_client=True) as client:
            done.scheduled = schedule_wakeups(
                runtime,
                client,
                timedelta(seconds=schedule.wakeup_horizon_seconds),
                journeys=scope,
            ).created
    except Exception as exc:  # the safety sweep schedules them again
        log.warning("could not schedule wake-ups (the safety sweep will): %s", exc)
    return done

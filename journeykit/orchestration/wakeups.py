"""Wake-ups: flow runs of a journey's deployment scheduled at the minute its work is due, so
Prefect's upcoming runs show what will happen when (``restock · 120 due`` at 09:00) instead
of every journey polling every few minutes.

Due work is an enrollment waiting with a ``wake_at`` and an outbox row held until a
``due_at`` (quiet hours, a retry's backoff). :func:`due_minutes` finds the distinct
(journey, minute) of the work due within ``[now, now + horizon]`` in one set-based query (the
``(status, wake_at)`` and ``(status, due_at)`` indexes bound it), each minute the first whole
minute at or after the due time (a run at 09:00:00 claims what is due at 09:00:00, one due at
09:00:20 runs at 09:01); what a batch left overdue (beyond its limit) runs at the next
minute; an enrollment leased by a run is due when its lease ends (if that run died, as a
SIGKILLed worker's does, the wake-up then takes its work over).

:func:`schedule_wakeups` creates the runs that are missing, each with the idempotency key
``wakeup:<journey>:<minute>`` (Prefect's server inserts a flow run ``ON CONFLICT (flow_id,
idempotency_key) DO NOTHING`` and returns the existing one: two workers scheduling the same
minute make one run), and renames a still-scheduled run when more work fell into its
minute. The count in a name is what was known when scheduled; the
run renames itself with what it really found.

Every batch that can create due times (a journey's run, an event run, the safety sweep)
calls :func:`schedule_after_batch` at its end; the safety sweep covers the whole horizon for
every journey."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterName,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
)
from prefect.states import Scheduled
from sqlalchemy import Engine, Select, case, func, literal_column, union_all
from sqlmodel import Session, col, select

from journeykit.delivery.reconcile import reconcile_windows
from journeykit.engine.advance import LIVE
from journeykit.engine.runtime import Runtime
from journeykit.foundation.models import Enrollment, OutboxMessage

log = logging.getLogger(__name__)
MINUTE = timedelta(minutes=1)
WAKEUP_TAG = "wake-up"
PAGE = 200  # the Prefect API's largest page
SETTLING_LIMIT = 10_000  # messages left sending read per scheduling (the sweep takes any more)


@dataclass(frozen=True)
class DueMinute:
    """Work of one journey due in the minute before ``minute`` (inclusive of ``minute``)."""

    journey: str
    minute: datetime  # a whole minute, UTC: when the run starts
    count: int  # enrollments waking + messages held, as known now

    @property
    def key(self) -> str:
        return f"wakeup:{self.journey}:{self.minute:%Y-%m-%dT%H:%MZ}"

    @property
    def name(self) -> str:
        return f"{self.journey} · {self.count} due"


def due_minutes(
    engine: Engine,
    now: datetime,
    horizon: timedelta,
    journeys: Iterable[str] | None = None,
    settle_after: Mapping[str, timedelta] | None = None,
) -> list[DueMinute]:
    """The (journey, minute, count) of the work due within ``[now, now + horizon]``, by
    journey then minute: one query over both tables, grouped in the database by the
    minute a due time falls in and whether it is exactly on it. Work already overdue (what
    a batch left over: more than its limit) is due at the next whole minute, so it does not
    wait for the safety sweep; a leased enrollment is due when its lease ends. With
    ``settle_after`` (channel -> how long an ambiguous send waits before the provider is
    asked: ``reconcile_windows``), a message left ``sending`` is due when it may be settled
    (a run of its journey reconciles before it sends), not at the next safety sweep."""
    names = sorted(set(journeys)) if journeys is not None else None
    if names is not None and not names:
        return []
    query = due_minutes_query(engine.dialect.name, now, now + horizon, names)
    first = _as_minute(now) if now == _as_minute(now) else _as_minute(now) + MINUTE
    counts: dict[tuple[str, datetime], int] = defaultdict(int)
    with Session(engine) as session:
        for journey, floor_value, exact, count in session.execute(query):
            minute = _as_minute(floor_value)
            minute = minute if exact else minute + MINUTE
            counts[(journey, max(minute, first))] += int(count)
        for journey, settle_at in _settling(session, now, now + horizon, names, settle_after):
            minute = _as_minute(settle_at)
            minute = minute if minute == settle_at else minute + MINUTE
            counts[(journey, max(minute, first))] += 1
    return [DueMinute(j, m, n) for (j, m), n in sorted(counts.items())]


def _settling(
    session: Session,
    now: datetime,
    end: datetime,
    journeys: list[str] | None,
    settle_after: Mapping[str, timedelta] | None,
) -> list[tuple[str, datetime]]:
    """(journey, when) of each message left ``sending`` that may be settled by ``end``: its
    last attempt plus its channel's window (an email still unsettled then, once its longer
    window ends). Rows in ``sending`` are the sends in flight and the ambiguous ones: few."""
    if not settle_after:
        return []
    shortest = min(settle_after.values())
    query = select(OutboxMessage.journey, OutboxMessage.channel, OutboxMessage.last_attempt_at)
    query = query.where(
        col(OutboxMessage.status) == "sending",
        col(OutboxMessage.last_attempt_at) <= end - shortest,
    )
    if journeys is not None:
        query = query.where(col(OutboxMessage.journey).in_(journeys))
    found: list[tuple[str, datetime]] = []
    for journey, channel, last in session.exec(query.limit(SETTLING_LIMIT)).all():
        if last is None:
            continue
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        first_ask = last + shortest
        settle_at = first_ask if first_ask > now else last + settle_after.get(channel, shortest)
        if settle_at <= end:
            found.append((journey, max(settle_at, now)))
    return found


def due_minutes_query(
    dialect: str, start: datetime, end: datetime, journeys: list[str] | None = None
) -> Select[Any]:
    """(journey, floor minute, on the minute, count) of the work due by ``end`` (a leased
    enrollment when its lease ends)."""
    # what is due by the end: ahead, or overdue (a batch's leftovers: at the next minute)
    # a leased one is due when its lease ends: claimed by a run that is still going (then
    # it is no longer due by then) or by one that died (then another takes it over)
    leased = col(Enrollment.lease_until).is_not(None) & (
        col(Enrollment.lease_until) > col(Enrollment.wake_at)
    )
    wakes = case((leased, col(Enrollment.lease_until)), else_=col(Enrollment.wake_at))
    waking: Select[Any] = select(
        col(Enrollment.journey).label("journey"), wakes.label("due")
    ).where(col(Enrollment.status).in_(LIVE), col(Enrollment.wake_at) <= end, wakes <= end)
    held: Select[Any] = select(
        col(OutboxMessage.journey).label("journey"), col(OutboxMessage.due_at).label("due")
    ).where(col(OutboxMessage.status) == "queued", col(OutboxMessage.due_at) <= end)
    if journeys is not None:
        waking = waking.where(col(Enrollment.journey).in_(journeys))
        held = held.where(col(OutboxMessage.journey).in_(journeys))
    due = union_all(waking, held).subquery("due_work")
    floor, on_the_minute = _minute_of(due.c.due, dialect)
    return select(
        due.c.journey, floor.label("floor"), on_the_minute.label("exact"), func.count()
    ).group_by(due.c.journey, floor, on_the_minute)


def _minute_of(column: Any, dialect: str) -> tuple[Any, Any]:
    """(the whole minute a timestamp falls in, whether it is exactly that minute) in SQL."""
    if dialect == "postgresql":
        floor = func.date_trunc(literal_column("'minute'"), column)
        return floor, floor == column
    # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'; %f is seconds with milliseconds
    return func.strftime("%Y-%m-%d %H:%M", column), func.strftime("%f", column) == "00.000"


def _as_minute(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass
class Scheduling:
    """What :func:`schedule_wakeups` did."""

    wanted: list[DueMinute]
    created: list[DueMinute]
    renamed: list[DueMinute]
    no_deployment: set[str]  # journeys with due work but no deployment on this server


def schedule_wakeups(
    runtime: Runtime,
    client: SyncPrefectClient,
    horizon: timedelta,
    journeys: Iterable[str] | None = None,
) -> Scheduling:
    """Create the missing wake-up runs for the work due within ``horizon`` (of ``journeys``,
    or of every journey), and rename a scheduled one whose count grew."""
    now = runtime.clock.now()
    windows = reconcile_windows(runtime.settings)
    wanted = due_minutes(runtime.engine, now, horizon, journeys, settle_after=windows)
    done = Scheduling(wanted, [], [], set())
    if not wanted:
        return done
    deployments = journey_deployments(client, {w.journey for w in wanted})
    done.no_deployment = {w.journey for w in wanted} - set(deployments)
    existing = _existing_runs(client, list(deployments.values()), now - MINUTE, now + horizon)
    for due in wanted:
        deployment = deployments.get(due.journey)
        if deployment is None:
            continue
        run = existing.get(due.key)
        if run is None:
            client.create_flow_run_from_deployment(
                deployment,
                name=due.name,
                state=Scheduled(scheduled_time=due.minute),
                tags=[WAKEUP_TAG],
                idempotency_key=due.key,
            )
            done.created.append(due)
        elif run.state_type == "SCHEDULED" and run.name != due.name:
            client.update_flow_run(run.id, name=due.name)
            done.renamed.append(due)
    if done.no_deployment:
        log.debug("no deployment for %s: their due work waits for the sweep", done.no_deployment)
    return done


def schedule_after_batch(
    runtime: Runtime, journeys: Iterable[str] | None = None
) -> list[DueMinute]:
    """What a batch does at its end (a wake-up run, an event run, the safety sweep):
    schedule the wake-ups of ``journeys`` (None: every journey) up to the horizon
    (``schedule.wakeup_horizon_seconds``). The batch's work is committed: a Prefect API
    failure is logged as a warning, not raised, and the safety sweep schedules them again."""
    if journeys is not None and not journeys:
        return []
    horizon = timedelta(seconds=runtime.settings.schedule.wakeup_horizon_seconds)
    try:
        with get_client(sync_client=True) as client:
            return schedule_wakeups(runtime, client, horizon, journeys).created
    except Exception as exc:  # the safety sweep schedules them again
        log.warning("could not schedule wake-ups (the safety sweep will): %s", exc)
        return []


def journey_deployments(client: SyncPrefectClient, journeys: set[str]) -> dict[str, UUID]:
    """journey -> id of its deployment (named after the journey, of the flow of that name)."""
    found = client.read_deployments(
        flow_filter=FlowFilter(name=FlowFilterName(any_=sorted(journeys))),
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=sorted(journeys))),
        limit=PAGE,
    )
    return {d.name: d.id for d in found if d.name in journeys}


@dataclass(frozen=True)
class _Run:
    id: UUID
    name: str
    state_type: str | None


def _existing_runs(
    client: SyncPrefectClient, deployments: list[UUID], after: datetime, before: datetime
) -> dict[str, _Run]:
    """idempotency key -> run, for the runs of these deployments expected in the window."""
    if not deployments:
        return {}
    runs: dict[str, _Run] = {}
    flow_runs = FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=deployments),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=after, before_=before),
    )
    offset = 0
    while True:
        page = client.read_flow_runs(flow_run_filter=flow_runs, limit=PAGE, offset=offset)
        for run in page:
            if run.idempotency_key:
                state = run.state.type.value if run.state else None
                runs[run.idempotency_key] = _Run(run.id, run.name, state)
        if len(page) < PAGE:
            return runs
        offset += PAGE

"""Wake-ups and the backlog on the injected clock (no Prefect server): the distinct
(journey, minute) of due work in one query, coalesced per journey and minute, each minute
the first whole minute at or after the due time; overdue work measured per journey; the
query bounded by the due indexes on PostgreSQL (EXPLAIN)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pendulum
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, text

from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Customer, Enrollment, JourneyVersion, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.orchestration.backlog import late_work, overdue_work
from journeykit.orchestration.wakeups import (
    WAKEUP_TAG,
    DueMinute,
    due_minutes,
    due_minutes_query,
    schedule_wakeups,
)
from journeykit.timing.clock import VirtualClock

NOW = pendulum.datetime(2026, 3, 2, 9, 0, 30, tz="UTC")  # the injected clock's now
HORIZON = timedelta(minutes=30)
_ids = count(1)

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite:///{tmp_path}/wakeups.db"
    upgrade(url)
    built = make_engine(url)
    with session_scope(built) as session:
        for journey in ("restock", "backorder", "retired"):
            session.add(JourneyVersion(hash=journey, journey=journey, source="", created_at=NOW))
        session.add(Customer(id=1, external_id="c-1", created_at=NOW))
    yield built
    built.dispose()


def waiting(
    engine: Engine, journey: str, wake_at: datetime | None, status: str = "waiting", **kw: Any
) -> None:
    n = next(_ids)
    with session_scope(engine) as session:
        session.add(
            Enrollment(
                journey=journey, version=journey, subject_type="order", subject_key=f"order:{n}",
                node_id="wait", status=status, wake_at=wake_at, entered_at=NOW, updated_at=NOW,
                **kw,
            )
        )  # fmt: skip


def held(engine: Engine, journey: str, due_at: datetime, status: str = "queued") -> None:
    n = next(_ids)
    with session_scope(engine) as session:
        session.add(
            OutboxMessage(
                key=f"{n}:send:email:1", journey=journey, node_id="send", customer_id=1,
                channel="email", template="t", to_address="a@example.com", status=status,
                due_at=due_at, created_at=NOW,
            )
        )  # fmt: skip


def at(hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
    return pendulum.datetime(2026, 3, 2, hour, minute, second, tz="UTC").add(microseconds=micro)


def test_due_work_is_coalesced_per_journey_and_minute(engine: Engine) -> None:
    # 09:03:00 exactly runs at 09:03; anything later in that minute at 09:04
    waiting(engine, "restock", at(9, 3))
    waiting(engine, "restock", at(9, 3, 0, 500_000))
    waiting(engine, "restock", at(9, 3, 40))
    held(engine, "restock", at(9, 4))  # a message held by quiet hours until 09:04
    waiting(engine, "backorder", at(9, 3, 59))
    held(engine, "backorder", at(9, 10, 1), status="sent")  # not held any more
    waiting(engine, "backorder", at(9, 20), status="completed")  # finished: nothing due
    waiting(engine, "backorder", None, status="active")  # waits for an event, no time
    waiting(engine, "restock", at(9, 31))  # beyond the horizon (09:30:30)
    held(engine, "backorder", at(9, 30, 30))  # exactly at the horizon's end: included
    # overdue, claimed by a batch until 09:40 (beyond the horizon): that batch's
    waiting(engine, "restock", at(8, 0), lease_owner="w", lease_until=at(9, 40))

    assert due_minutes(engine, NOW, HORIZON) == [
        DueMinute("backorder", at(9, 4), 1),
        DueMinute("backorder", at(9, 31), 1),
        DueMinute("restock", at(9, 3), 1),
        DueMinute("restock", at(9, 4), 3),
    ]
    assert due_minutes(engine, NOW, HORIZON, journeys={"restock"}) == [
        DueMinute("restock", at(9, 3), 1),
        DueMinute("restock", at(9, 4), 3),
    ]
    assert due_minutes(engine, NOW, HORIZON, journeys=set()) == []


def test_work_a_batch_left_overdue_is_due_at_the_next_minute(engine: Engine) -> None:
    for _ in range(3):  # more than a batch's limit was due at 08:59
        waiting(engine, "restock", at(8, 59))
    held(engine, "restock", at(8, 58, 10))  # a message not sent yet
    waiting(engine, "restock", at(9, 1))  # and what is due at 09:01 anyway
    assert due_minutes(engine, NOW, HORIZON) == [DueMinute("restock", at(9, 1), 5)]
    on_the_minute = at(9, 2)  # now is a whole minute: that very minute
    assert due_minutes(engine, on_the_minute, HORIZON) == [DueMinute("restock", at(9, 2), 5)]


def test_a_leased_enrollment_is_due_when_its_lease_ends(engine: Engine) -> None:
    # claimed at 09:00 by a worker that was SIGKILLed: its lease ends at 09:05:00
    waiting(engine, "restock", at(8, 59), lease_owner="dead", lease_until=at(9, 5))
    assert due_minutes(engine, NOW, HORIZON) == [DueMinute("restock", at(9, 5), 1)]


def test_a_message_left_sending_is_due_when_it_may_be_settled(engine: Engine) -> None:
    """An ambiguous send (no answer, a worker killed mid-send) is reconciled by a run of its
    journey: one is scheduled when the provider may be asked, not at the safety sweep."""
    windows = {"sms": timedelta(minutes=2), "email": timedelta(minutes=15)}
    sending(engine, "restock", "sms", last_attempt_at=at(8, 59, 30))  # asked at 09:01:30
    sending(engine, "backorder", "email", last_attempt_at=at(8, 50))  # 09:05 (15 min)
    sending(engine, "backorder", "email", last_attempt_at=at(9, 1))  # first asked at 09:03
    sending(engine, "restock", "sms", last_attempt_at=at(9, 29, 59))  # 09:31:59: beyond
    assert due_minutes(engine, NOW, HORIZON, settle_after=windows) == [
        DueMinute("backorder", at(9, 3), 1),
        DueMinute("backorder", at(9, 5), 1),
        DueMinute("restock", at(9, 2), 1),
    ]
    assert due_minutes(engine, NOW, HORIZON) == []  # without windows: not counted


def sending(engine: Engine, journey: str, channel: str, last_attempt_at: datetime) -> None:
    n = next(_ids)
    with session_scope(engine) as session:
        session.add(
            OutboxMessage(
                key=f"{n}:send:{channel}:1", journey=journey, node_id="send", customer_id=1,
                channel=channel, template="t", to_address="a@example.com", status="sending",
                due_at=last_attempt_at, last_attempt_at=last_attempt_at, created_at=NOW,
            )
        )  # fmt: skip


def test_a_wakeup_is_named_and_keyed_by_journey_and_minute() -> None:
    due = DueMinute("restock", at(9, 4), 120)
    assert due.name == "restock · 120 due"
    assert due.key == "wakeup:restock:2026-03-02T09:04Z"


def test_overdue_work_is_measured_per_journey(engine: Engine) -> None:
    waiting(engine, "restock", at(8, 40))  # 20.5 minutes late
    waiting(engine, "restock", at(8, 58))
    held(engine, "restock", at(8, 45))
    held(engine, "restock", at(8, 30), status="sent")  # sent long ago: not late
    waiting(engine, "backorder", at(8, 57))  # 3.5 minutes: late, not alarming
    # claimed by a running batch (its lease holds): not overdue
    waiting(engine, "backorder", at(8, 0), lease_owner="w", lease_until=NOW + timedelta(1))
    waiting(engine, "backorder", at(9, 5))  # not due yet

    found = {w.journey: w for w in overdue_work(engine, NOW)}
    assert set(found) == {"restock", "backorder"}
    restock = found["restock"]
    assert (restock.enrollments, restock.messages) == (2, 1)
    assert restock.age == timedelta(minutes=20, seconds=30)
    assert restock.payload()["age_minutes"] == 20.5
    assert found["backorder"].age == timedelta(minutes=3, seconds=30)

    [late] = late_work(engine, NOW, timedelta(minutes=10))
    assert late.journey == "restock"
    assert late_work(engine, NOW, timedelta(minutes=10), journeys={"backorder"}) == []


@pytest.mark.postgres
def test_the_wakeup_query_reads_the_due_indexes_on_postgresql(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    query = due_minutes_query("postgresql", NOW, NOW + HORIZON).compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    try:
        with engine.connect() as connection:
            # an empty table is read whole; ask what the planner does when that costs
            connection.execute(text("SET enable_seqscan = off"))
            found = connection.exec_driver_sql(f"EXPLAIN {query}")
            plan = "\n".join(str(row[0]) for row in found)
    finally:
        engine.dispose()
    assert "ix_enrollment_due" in plan, plan
    assert "ix_outbox_due" in plan, plan


class FakePrefect:
    """The part of Prefect's client that scheduling wake-ups uses, in memory (a fake at the
    seam): deployments by name, flow runs with their idempotency keys."""

    def __init__(self, deployments: list[str]) -> None:
        self.deployments = {name: uuid4() for name in deployments}
        self.runs: list[SimpleNamespace] = []
        self.renamed: list[tuple[UUID, str]] = []

    def read_deployments(self, **_: Any) -> list[SimpleNamespace]:
        return [SimpleNamespace(name=n, id=i) for n, i in self.deployments.items()]

    def read_flow_runs(self, *, limit: int, offset: int, **_: Any) -> list[SimpleNamespace]:
        return self.runs[offset : offset + limit]

    def create_flow_run_from_deployment(
        self, deployment: UUID, *, name: str, state: Any, tags: list[str], idempotency_key: str
    ) -> SimpleNamespace:
        for run in self.runs:  # Prefect's server: ON CONFLICT (flow, key) DO NOTHING
            if run.idempotency_key == idempotency_key:
                return run
        kind = SimpleNamespace(value="SCHEDULED")
        run = SimpleNamespace(
            id=uuid4(), name=name, idempotency_key=idempotency_key, deployment=deployment,
            expected_start_time=state.state_details.scheduled_time, tags=tags,
            state=SimpleNamespace(type=kind),
        )  # fmt: skip
        self.runs.append(run)
        return run

    def update_flow_run(self, run_id: UUID, *, name: str) -> None:
        self.renamed.append((run_id, name))
        for run in self.runs:
            if run.id == run_id:
                run.name = name


def runtime_at(engine: Engine, now: datetime) -> Runtime:
    return Runtime(engine, VirtualClock(now), JourneyBook(), Settings())


def test_wakeups_create_the_missing_runs_and_rename_one_whose_count_grew(engine: Engine) -> None:
    waiting(engine, "restock", at(9, 3, 40))
    waiting(engine, "backorder", at(9, 10))
    waiting(engine, "retired", at(9, 12))  # no deployment on this server: the sweep takes it
    prefect = FakePrefect(["restock", "backorder"])
    runtime = runtime_at(engine, NOW)

    done = schedule_wakeups(runtime, prefect, HORIZON)  # type: ignore[arg-type]
    assert [(d.journey, d.minute, d.count) for d in done.created] == [
        ("backorder", at(9, 10), 1),
        ("restock", at(9, 4), 1),
    ]
    assert done.no_deployment == {"retired"}
    restock = next(r for r in prefect.runs if r.idempotency_key.startswith("wakeup:restock"))
    assert restock.name == "restock · 1 due" and restock.expected_start_time == at(9, 4)
    assert restock.deployment == prefect.deployments["restock"] and restock.tags == [WAKEUP_TAG]

    # more work falls into restock's minute: no new run, the scheduled one is renamed
    waiting(engine, "restock", at(9, 4))
    again = schedule_wakeups(runtime, prefect, HORIZON)  # type: ignore[arg-type]
    assert again.created == [] and len(prefect.runs) == 2
    assert prefect.renamed == [(restock.id, "restock · 2 due")]

    # one journey's batch schedules only that journey
    waiting(engine, "backorder", at(9, 20))
    scoped = schedule_wakeups(runtime, prefect, HORIZON, journeys={"restock"})  # type: ignore[arg-type]
    assert scoped.created == [] and len(prefect.runs) == 2


def test_a_horizon_not_beyond_the_safety_sweep_is_refused() -> None:
    with pytest.raises(ValidationError, match="wakeup_horizon_seconds must be longer"):
        Settings().with_changes(
            {"schedule.safety_sweep_seconds": 3600, "schedule.wakeup_horizon_seconds": 1800}
        )
    assert Settings().schedule.wakeup_horizon_seconds > Settings().schedule.safety_sweep_seconds

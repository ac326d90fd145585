"""A restock audience enrolled chunk by chunk, committing each chunk: a crash after chunk k
leaves k chunks enrolled, and ingesting the same event again enrolls the rest, nobody twice
(the re-entry rule and the sign-ups' status skip who is in), with one ``enter`` row each."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from journeykit_rigs.bench.pacing import ShiftedClock
from journeykit_rigs.bench.runtime import START, bench_runtime, database_url
from journeykit_rigs.bench.seed import SKU, seed_customers, seed_variant
from sqlmodel import Session, col, func, select

from journeykit.engine.advance import advance, claim_due
from journeykit.engine.ingest import ingest_event
from journeykit.engine.route import ENROLL_CHUNK
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import (
    DomainEvent,
    Enrollment,
    EnrollmentHistory,
    InboxEvent,
    RestockSignup,
)
from journeykit.service.event_inbox import APPLY_LEASE, apply_pending
from journeykit.service.events import accept
from journeykit.timing.clock import VirtualClock

SUBSCRIBERS = 2 * ENROLL_CHUNK + 300  # three chunks
ALL_IN = {  # every subscriber enrolled once, told once, the event finished
    "enrollments": SUBSCRIBERS,
    "subjects": SUBSCRIBERS,
    "enter_rows": SUBSCRIBERS,
    "signups_alerted": 2 * SUBSCRIBERS,
    "signups_waiting": 0,
    "events_unfinished": 0,
}


class Crash(Exception):
    """The process died right after a chunk's commit."""


def restock(runtime, *, crash_after: int | None = None):
    chunks = 0
    with session_scope(runtime.engine) as session:

        def checkpoint() -> None:
            nonlocal chunks
            session.commit()
            chunks += 1
            if chunks == crash_after:
                raise Crash

        return ingest_event(
            session,
            book=runtime.book,
            now=runtime.clock.now(),
            payload={"type": "inventory.changed", "sku": SKU, "quantity": SUBSCRIBERS},
            key="restock",
            registry=runtime.registry,
            checkpoint=checkpoint,
        )


def state(runtime) -> dict[str, int]:
    with Session(runtime.engine) as session:

        def count(query) -> int:
            return int(session.exec(query).one())

        return {
            "enrollments": count(select(func.count()).select_from(Enrollment)),
            "subjects": count(select(func.count(func.distinct(Enrollment.subject_key)))),
            "enter_rows": count(select(func.count()).where(col(EnrollmentHistory.kind) == "enter")),
            "signups_alerted": count(
                select(func.count()).where(col(RestockSignup.status) == "alerted")
            ),
            "signups_waiting": count(
                select(func.count()).where(col(RestockSignup.status) == "waiting")
            ),
            "events_unfinished": count(
                select(func.count()).where(col(DomainEvent.processed_at).is_(None))
            ),
        }


@pytest.mark.parametrize("crash_after", [1, 2])
def test_a_crash_after_chunk_k_resumes_without_doubles(tmp_path: Path, crash_after: int) -> None:
    runtime = bench_runtime(database_url(tmp_path, None), clock=ShiftedClock(START, time.time()))
    seed_variant(runtime.engine, runtime.clock.now(), inventory=0)
    seed_customers(runtime.engine, runtime.clock.now(), SUBSCRIBERS, variant_id=1)

    with pytest.raises(Crash):
        restock(runtime, crash_after=crash_after)
    enrolled = crash_after * ENROLL_CHUNK
    assert state(runtime) == {
        "enrollments": enrolled,
        "subjects": enrolled,
        "enter_rows": enrolled,
        "signups_alerted": 2 * enrolled,  # email and SMS: marked with their enrollment
        "signups_waiting": 2 * (SUBSCRIBERS - enrolled),
        "events_unfinished": 1,
    }
    # a worker advances what was enrolled before the event is taken up again
    advance(runtime, claim_due(runtime, limit=100))

    again = restock(runtime)
    assert not again.duplicate and len(again.routed.enrolled) == SUBSCRIBERS - enrolled
    assert state(runtime) == ALL_IN
    assert restock(runtime).duplicate  # finished: the key is an ordinary duplicate now
    runtime.engine.dispose()


class WorkerDied(BaseException):
    """The worker's process stopped (SIGKILL, OOM) in the middle of a chunk."""


def dying_after(runtime, members: int) -> None:
    """The restock audience, whose reader dies once after ``members`` members."""
    declaration = runtime.registry.audiences["restock_signups"]
    armed = [True]

    def audience(**kwargs):
        for n, member in enumerate(declaration.fn(**kwargs)):
            if armed[0] and n == members:
                armed[0] = False
                raise WorkerDied
            yield member

    runtime.registry.audiences["restock_signups"] = replace(declaration, fn=audience)


def inbox(runtime) -> dict[str, int]:
    with Session(runtime.engine) as session:
        rows = session.exec(select(InboxEvent.status, func.count()).group_by(InboxEvent.status))
        return {status: int(n) for status, n in rows.all()}


def test_the_inbox_commits_a_large_audience_per_chunk_and_resumes_it_after_its_lease(
    tmp_path: Path,
) -> None:
    """Through the inbox, as production applies events: a worker that dies in chunk 2 leaves
    chunk 1 committed and the event ``applying``; it holds back its subject's next event;
    no other worker takes it while the lease runs; after the lease the next apply resumes it
    and every subscriber is enrolled once."""
    clock = VirtualClock(START)
    runtime = bench_runtime(database_url(tmp_path, None), clock=clock)
    seed_variant(runtime.engine, clock.now(), inventory=0)
    seed_customers(runtime.engine, clock.now(), SUBSCRIBERS, variant_id=1)
    restock = {"type": "inventory.changed", "sku": SKU, "quantity": SUBSCRIBERS}
    with session_scope(runtime.engine) as session:
        first = accept(session, payload=restock, key="restock", source="api", now=clock.now())
        second = accept(
            session, payload={**restock, "quantity": SUBSCRIBERS + 1}, key="recount",
            source="api", now=clock.now(),
        )  # fmt: skip
    dying_after(runtime, ENROLL_CHUNK + 100)

    with pytest.raises(WorkerDied):
        apply_pending(runtime)
    assert state(runtime)["enrollments"] == ENROLL_CHUNK  # chunk 1 is in, chunk 2 was lost
    assert state(runtime)["events_unfinished"] == 1
    assert inbox(runtime) == {"applying": 1, "pending": 1}

    clock.advance(APPLY_LEASE - timedelta(seconds=1))
    held = apply_pending(runtime)  # the lease still runs: nobody takes it, nor the next one
    assert held.applied == [] and inbox(runtime) == {"applying": 1, "pending": 1}

    clock.advance(timedelta(seconds=2))
    done = apply_pending(runtime)
    assert done.applied == [first.inbox_id, second.inbox_id]  # resumed, then the next in turn
    assert len(done.enrolled) == SUBSCRIBERS - ENROLL_CHUNK
    assert inbox(runtime) == {"applied": 2}
    assert state(runtime) == ALL_IN
    runtime.engine.dispose()


def test_an_event_that_fails_part_way_is_retried_from_where_it_stopped(tmp_path: Path) -> None:
    """A failure (not a dead worker) after a committed chunk: the event goes back to
    ``pending`` with a backoff, and its retry enrolls the rest."""
    clock = VirtualClock(START)
    runtime = bench_runtime(database_url(tmp_path, None), clock=clock)
    seed_variant(runtime.engine, clock.now(), inventory=0)
    seed_customers(runtime.engine, clock.now(), SUBSCRIBERS, variant_id=1)
    declaration = runtime.registry.audiences["restock_signups"]
    armed = [True]

    def failing(**kwargs):
        for n, member in enumerate(declaration.fn(**kwargs)):
            if armed[0] and n == 2 * ENROLL_CHUNK + 10:
                armed[0] = False
                raise RuntimeError("the store went away")
            yield member

    runtime.registry.audiences["restock_signups"] = replace(declaration, fn=failing)
    restock = {"type": "inventory.changed", "sku": SKU, "quantity": SUBSCRIBERS}
    with session_scope(runtime.engine) as session:
        accept(session, payload=restock, key="restock", source="api", now=clock.now())
    first = apply_pending(runtime)
    assert first.applied == [] and "the store went away" in next(iter(first.waiting.values()))
    assert state(runtime)["enrollments"] == 2 * ENROLL_CHUNK
    assert inbox(runtime) == {"pending": 1}
    clock.advance(timedelta(minutes=1))
    again = apply_pending(runtime)
    assert len(again.applied) == 1 and len(again.enrolled) == SUBSCRIBERS - 2 * ENROLL_CHUNK
    assert state(runtime)["enrollments"] == SUBSCRIBERS == state(runtime)["subjects"]
    runtime.engine.dispose()

"""A restock audience enrolled chunk by chunk, committing each chunk: a crash after chunk k
leaves k chunks enrolled, and ingesting the same event again enrolls the rest, nobody twice
(the re-entry rule and the sign-ups' status skip who is in), with one ``enter`` row each."""

from __future__ import annotations

import time
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
from journeykit.foundation.models import DomainEvent, Enrollment, EnrollmentHistory, RestockSignup

SUBSCRIBERS = 2 * ENROLL_CHUNK + 300  # three chunks


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
    assert state(runtime) == {
        "enrollments": SUBSCRIBERS,
        "subjects": SUBSCRIBERS,
        "enter_rows": SUBSCRIBERS,
        "signups_alerted": 2 * SUBSCRIBERS,
        "signups_waiting": 0,
        "events_unfinished": 0,
    }
    assert restock(runtime).duplicate  # finished: the key is an ordinary duplicate now
    runtime.engine.dispose()

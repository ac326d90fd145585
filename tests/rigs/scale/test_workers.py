"""Four worker processes advance one database at once: every due enrollment moves exactly
once — one claim, one set of history rows, one outbox row per message — on PostgreSQL
(``FOR UPDATE SKIP LOCKED`` + leases) and on SQLite (leases written only where still due)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from journeykit_rigs.bench.journey import MOVES_PER_ENROLLMENT, PARKS_AT, bench_book
from journeykit_rigs.bench.runtime import START, bench_runtime, database_url
from journeykit_rigs.bench.seed import seed_customers, seed_enrollments, seed_variant
from journeykit_rigs.bench.workers import run_workers
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from journeykit.foundation.models import Enrollment, EnrollmentHistory, OutboxMessage

MOVES_EACH = MOVES_PER_ENROLLMENT  # and as many history rows; one outbox row each


def populate(url: str, due: int, waiting: int) -> Engine:
    runtime = bench_runtime(url, book=bench_book())
    now = runtime.clock.now()
    seed_variant(runtime.engine, now, inventory=50)
    customers = seed_customers(runtime.engine, now, due)
    seed_enrollments(runtime.engine, runtime.book, now, due=customers, waiting=waiting)
    return runtime.engine


def check_moved_exactly_once(engine: Engine, results: list, due: int) -> None:
    claims = Counter(i for r in results for i in r.claimed)
    assert not [r.errors for r in results if r.errors]
    assert len(claims) == due and set(claims.values()) == {1}, "an enrollment claimed twice"
    assert sum(r.moves for r in results) == due * MOVES_EACH
    with Session(engine) as session:
        parked = session.exec(
            select(Enrollment.node_id, func.count())
            .where(col(Enrollment.customer_id).is_not(None))
            .group_by(Enrollment.node_id)
        ).all()
        assert dict(parked) == {PARKS_AT: due}
        per_enrollment = session.exec(
            select(EnrollmentHistory.enrollment_id, func.count()).group_by(
                EnrollmentHistory.enrollment_id
            )
        ).all()
        assert len(per_enrollment) == due and {n for _, n in per_enrollment} == {MOVES_EACH}
        keys = session.exec(select(OutboxMessage.key, OutboxMessage.enrollment_id)).all()
        assert len(keys) == due
        assert len({k for k, _ in keys}) == due and len({e for _, e in keys}) == due
        statuses = set(session.exec(select(OutboxMessage.status)).all())
        assert statuses == {"queued"}
        leased = session.exec(
            select(func.count()).where(col(Enrollment.lease_owner).is_not(None))
        ).one()
        assert leased == 0


@pytest.mark.postgres
def test_four_workers_on_postgresql_move_each_enrollment_once(postgres_url: str) -> None:
    url = database_url(Path("."), postgres_url)
    engine = populate(url, due=2000, waiting=2000)
    results = run_workers(url, workers=4, now=START, batch=100)
    check_moved_exactly_once(engine, results, 2000)
    assert sum(1 for r in results if r.claimed) >= 2, "the workers did not share the work"
    engine.dispose()


def test_four_workers_on_sqlite_move_each_enrollment_once(tmp_path: Path) -> None:
    url = database_url(tmp_path)
    engine = populate(url, due=400, waiting=1000)
    results = run_workers(url, workers=4, now=START, batch=100)
    check_moved_exactly_once(engine, results, 400)
    engine.dispose()

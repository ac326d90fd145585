"""The sweep benchmark's bulk seeding of parked enrollments (``COPY`` on PostgreSQL, one
``executemany`` per chunk on SQLite): rows the engine reads like any other — not due now,
due when their wait ends, and advanced through the journey then."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from journeykit_rigs.bench import sweep
from journeykit_rigs.bench.journey import NAME, WAKES_AT, bench_book
from journeykit_rigs.bench.runtime import bench_runtime, database_url
from journeykit_rigs.bench.seed import seed_variant
from sqlmodel import Session, func, select

from journeykit.engine.advance import advance, claim_due
from journeykit.foundation.models import Enrollment
from journeykit.timing.clock import VirtualClock


def check_seeding(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep, "CHUNK", 7)  # several chunks at a tiny size
    clock = VirtualClock(bench_runtime(url, book=bench_book()).clock.now())
    runtime = bench_runtime(url, book=bench_book(), clock=clock)
    seed_variant(runtime.engine, clock.now(), inventory=5)
    assert sweep.seed_waiting(runtime, 10) == 10
    assert sweep.seed_waiting(runtime, 6) == 6  # subjects continue after the first 10
    with Session(runtime.engine) as session:
        rows = session.exec(select(Enrollment)).all()
        assert len(rows) == 16 and len({r.active_key for r in rows}) == 16
        assert {(r.journey, r.node_id, r.status) for r in rows} == {(NAME, WAKES_AT, "waiting")}
        assert {r.wake_at for r in rows} == {clock.now() + timedelta(days=2)}
        assert rows[0].data == {"channels": ["email", "sms"], "signup_ids": []}
    assert claim_due(runtime, limit=100) == []  # parked: not due now
    clock.advance(timedelta(days=2, seconds=1))
    ids = claim_due(runtime, limit=100)
    assert len(ids) == 16
    report = advance(runtime, ids)
    assert not report.errors
    with Session(runtime.engine) as session:
        moved = session.exec(select(func.count()).where(Enrollment.node_id != WAKES_AT)).one()
        assert moved == 16
    runtime.engine.dispose()


def test_seeded_waiting_rows_read_like_the_engines_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_seeding(database_url(tmp_path), monkeypatch)


@pytest.mark.postgres
def test_seeded_waiting_rows_read_like_the_engines_on_postgresql(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_seeding(database_url(Path("."), postgres_url), monkeypatch)

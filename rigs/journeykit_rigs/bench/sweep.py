"""Sweep cost against population: ``waiting`` enrollments parked for later and ``due`` due
now. A sweep claims and advances what is due in batches; its time must follow ``due``, not
``waiting``: the claim reads the ``(status, wake_at)`` index up to now and stops there. The
claim query's plan is recorded with the result."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import col, select

from journeykit.engine.advance import advance, claim_due, claimable
from journeykit.foundation.models import Enrollment
from journeykit_rigs.bench.journey import bench_book
from journeykit_rigs.bench.runtime import bench_runtime, database_url, dialect, machine, peak_rss_mb
from journeykit_rigs.bench.seed import seed_customers, seed_enrollments, seed_variant


def run_sweep(
    waiting: int,
    due: int,
    *,
    batch: int = 500,
    url: str | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        runtime = bench_runtime(url, book=bench_book())
        now = runtime.clock.now()
        seeding = time.perf_counter()
        seed_variant(runtime.engine, now, inventory=50)
        customers = seed_customers(runtime.engine, now, due)
        seed_enrollments(runtime.engine, runtime.book, now, due=customers, waiting=waiting)
        _analyze(runtime.engine)
        seed_seconds = time.perf_counter() - seeding
        plan = claim_plan(runtime.engine, now, batch)
        claim_seconds, advanced, moves, errors = 0.0, 0, 0, 0
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            before = time.perf_counter()
            ids = claim_due(runtime, limit=batch)
            claim_seconds += time.perf_counter() - before
            if not ids:
                break
            report = advance(runtime, ids)
            advanced, moves, errors = (
                advanced + len(ids),
                moves + len(report.moves),
                errors + len(report.errors),
            )
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        idle = time.perf_counter()
        claim_due(runtime, limit=batch)  # nothing due: the cost of a sweep with no work
        idle_ms = (time.perf_counter() - idle) * 1000
        runtime.engine.dispose()
    return {
        "benchmark": "sweep",
        "waiting": waiting,
        "due": due,
        "batch": batch,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "advanced": advanced,
        "moves": moves,
        "errors": errors,
        "claim_seconds": round(claim_seconds, 4),
        "idle_claim_ms": round(idle_ms, 2),
        "per_enrollment_ms": round(seconds * 1000 / advanced, 3) if advanced else None,
        "seed_seconds": round(seed_seconds, 1),
        "claim_plan": plan,
        "database": dialect(url),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }


def claim_plan(engine: Engine, now: Any, batch: int) -> list[str]:
    """The database's plan for ``claim_due``'s query (PostgreSQL: as it runs, with
    ``FOR UPDATE SKIP LOCKED``)."""
    query = (
        select(Enrollment.id)
        .where(*claimable(now))
        .order_by(col(Enrollment.wake_at), col(Enrollment.id))
        .limit(batch)
    )
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        rows = conn.execute(text(explain + sql)).all()
    return [str(row[-1]) for row in rows]


def _analyze(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))

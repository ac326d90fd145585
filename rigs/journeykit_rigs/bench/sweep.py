"""Sweep cost against population: ``waiting`` enrollments parked for later and ``due`` due
now. A sweep claims and advances what is due in batches; its time must follow ``due``, not
``waiting``: the claim reads the ``(status, wake_at)`` index up to now and stops there. The
claim query's plan is recorded with the result."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, func, select

from journeykit.engine.advance import advance, claim_due, claimable
from journeykit.engine.runtime import Runtime
from journeykit.foundation.models import Enrollment
from journeykit_rigs.bench.journey import NAME, WAKES_AT, bench_book
from journeykit_rigs.bench.runtime import bench_runtime, database_url, dialect, machine, peak_rss_mb
from journeykit_rigs.bench.seed import SKU, seed_customers, seed_enrollments, seed_variant

BASELINE = 10_000  # the population the 1,000,000 sweep is compared with (issue 17)
TARGET_RATIO = 1.5  # time(1,000,000 waiting) / time(10,000 waiting), 1,000 due each
CHUNK = 20_000  # waiting rows per executemany / COPY round: memory stays constant


def run_sweep(
    waiting: int,
    due: int,
    *,
    batch: int = 500,
    url: str | None = None,
    workdir: Path | None = None,
    baseline: int | None = None,
) -> dict[str, Any]:
    """One sweep of ``due`` due enrollments among ``waiting`` parked ones. With ``baseline``
    (< ``waiting``), first the same sweep among ``baseline`` parked ones, in the same
    database, which then grows to ``waiting`` for the second sweep: both results and their
    ratio (the index makes it ~1 whatever the population)."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        runtime = bench_runtime(url, book=bench_book())
        seed_variant(runtime.engine, runtime.clock.now(), inventory=50)
        first = None
        if baseline is not None and baseline + due < waiting:
            # not measured: the process's first sweep pays for loading templates, first
            # connections and caches, which would count against the baseline only; what
            # it advanced parks and counts as waiting
            warm = _seed_and_sweep(runtime, 0, min(due, 50, baseline), batch)["advanced"]
            first = _seed_and_sweep(runtime, baseline - warm, due, batch) | {"waiting": baseline}
            waiting -= baseline + first["advanced"]  # what the baseline swept parks too
        result = _seed_and_sweep(runtime, waiting, due, batch)
        if first is not None:
            result["waiting"] = result["enrollments"] - due
        runtime.engine.dispose()
    result |= {"database": dialect(url), "peak_rss_mb": peak_rss_mb(), "machine": machine()}
    if first is None:
        return result
    return result | {
        "baseline": first,
        "ratio": {
            "seconds": _ratio(result["seconds"], first["seconds"]),
            "cpu_seconds": _ratio(result["cpu_seconds"], first["cpu_seconds"]),
            "claim_seconds": _ratio(result["claim_seconds"], first["claim_seconds"]),
            "target": TARGET_RATIO,
        },
    }


def _rounded(load: tuple[float, ...]) -> list[float]:
    return [round(x, 2) for x in load]


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _seed_and_sweep(runtime: Runtime, waiting: int, due: int, batch: int) -> dict[str, Any]:
    """Add ``waiting`` parked and ``due`` due enrollments, then sweep until nothing is due."""
    now = runtime.clock.now()
    seeding = time.perf_counter()
    customers = seed_customers(runtime.engine, now, due)
    seed_enrollments(runtime.engine, runtime.book, now, due=customers, waiting=0)
    seed_waiting(runtime, waiting)
    _analyze(runtime.engine)
    seed_seconds = time.perf_counter() - seeding
    with Session(runtime.engine) as session:
        population = int(session.exec(select(func.count()).select_from(Enrollment)).one())
    plan = claim_plan(runtime.engine, now, batch)
    load = os.getloadavg()
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
    return {
        "benchmark": "sweep",
        "waiting": waiting,
        "due": due,
        "enrollments": population,
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
        "load_average": {"start": _rounded(load), "end": _rounded(os.getloadavg())},
    }


def seed_waiting(runtime: Runtime, count: int, *, journey: str = NAME) -> int:
    """``count`` enrollments parked at ``WAKES_AT`` of the bench journey, waking in two days
    (no customer), in chunks of ``CHUNK`` rows: PostgreSQL ``COPY``, SQLite one
    ``executemany`` per chunk. Every column but the subject is the same for all rows, so it
    is converted once (the columns' own bind processors): memory and per-row cost stay
    constant at any count. Subjects continue after those already parked."""
    engine = runtime.engine
    now = runtime.clock.now()
    with Session(engine) as session:
        version = runtime.book.snapshot(session, journey, now)
        session.commit()
        start = int(session.exec(select(func.count()).select_from(Enrollment)).one())
    table = Enrollment.__table__  # type: ignore[attr-defined]
    constant: dict[str, Any] = {
        "journey": journey,
        "version": version,
        "subject_type": "sku",
        "node_id": WAKES_AT,
        "status": "waiting",
        "wake_at": now + timedelta(days=2),
        "waiting_for": [],
        "data": {"channels": ["email", "sms"], "signup_ids": []},
        "visits": {WAKES_AT: 1},
        "entered_at": now - timedelta(days=2),
        "updated_at": now - timedelta(days=2),
    }
    postgres = engine.dialect.name == "postgresql"
    for name, value in list(constant.items()):
        if postgres and isinstance(value, datetime):
            constant[name] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        elif postgres and isinstance(value, dict | list):
            constant[name] = json.dumps(value)
        elif not postgres:
            kind = table.c[name].type.dialect_impl(engine.dialect)
            process = kind.bind_processor(engine.dialect)
            constant[name] = process(value) if process else value
    columns = ["subject_key", "active_key", *constant]
    fixed = tuple(constant.values())

    def rows(low: int, high: int) -> Iterator[tuple[Any, ...]]:
        for i in range(low, high):
            subject = f"sku:{SKU}|customer:B-w{i}"
            yield (subject, f"{journey}:{subject}", *fixed)

    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        for low in range(start, start + count, CHUNK):
            high = min(low + CHUNK, start + count)
            if postgres:
                with raw.cursor() as cursor:  # type: ignore[union-attr]
                    sql = f"COPY enrollment ({', '.join(columns)}) FROM STDIN"
                    with cursor.copy(sql) as copy:
                        for row in rows(low, high):
                            copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO enrollment ({', '.join(columns)}) VALUES ({marks})"
                raw.executemany(sql, rows(low, high))  # type: ignore[union-attr]
    return count


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
    """Statistics for the planner; on PostgreSQL also what a server does after a bulk load
    anyway — a vacuum and a checkpoint (when the user may) — so that neither runs during the
    measured sweep, on the same two cores: the sweep meets a settled table, as in production."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE enrollment"))
            with contextlib.suppress(DBAPIError):  # needs superuser or pg_checkpoint
                conn.execute(text("CHECKPOINT"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))

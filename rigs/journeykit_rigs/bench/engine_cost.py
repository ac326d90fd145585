"""Engine overhead: the cost of each node when enrollments advance in batches, against the
raw cost of writing the same rows (history, outbox, enrollment updates) with Core
``executemany``, and what running each batch inside a Prefect flow (one task run per node
group) adds."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, func, select

from journeykit.engine.advance import GroupKey, GroupResult, advance, claim_due, run_node_group
from journeykit.engine.runtime import Runtime
from journeykit.foundation.models import Enrollment, EnrollmentHistory, OutboxMessage
from journeykit_rigs.bench.journey import bench_book
from journeykit_rigs.bench.runtime import bench_runtime, database_url, dialect, machine, peak_rss_mb
from journeykit_rigs.bench.seed import seed_customers, seed_enrollments, seed_variant


def run_engine(
    enrollments: int,
    *,
    batch: int = 500,
    prefect: bool = True,
    url: str | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        runtime = bench_runtime(url, book=bench_book())
        now = runtime.clock.now()
        seed_variant(runtime.engine, now, inventory=50)
        _seed(runtime, enrollments)
        per_node: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

        def timed(rt: Runtime, key: GroupKey, ids: list[int]) -> GroupResult:
            started = time.perf_counter()
            result = run_node_group(rt, key, ids)
            spent = time.perf_counter() - started
            # a group runs on through instant nodes: its time is shared by its moves, by node
            by_node = Counter(m.from_node for m in result.moves) or Counter({key.node_id: len(ids)})
            for node, count in by_node.items():
                per_node[node][0] += spent * count / by_node.total()
                per_node[node][1] += count
            return result

        wall, cpu = time.perf_counter(), time.process_time()
        moves, batches = _sweep(runtime, batch, timed)
        seconds, cpu_seconds = time.perf_counter() - wall, time.process_time() - cpu
        raw = _raw_writes(runtime, enrollments)
        result: dict[str, Any] = {
            "benchmark": "engine",
            "enrollments": enrollments,
            "batch": batch,
            "batches": batches,
            "moves": moves,
            "seconds": round(seconds, 3),
            "cpu_seconds": round(cpu_seconds, 3),
            "per_move_ms": round(seconds * 1000 / moves, 3) if moves else None,
            "per_node_ms": {
                node: round(spent * 1000 / count, 3) for node, (spent, count) in per_node.items()
            },
            "raw_writes_seconds": round(raw, 3),
            "engine_to_raw_ratio": round(seconds / raw, 1) if raw else None,
        }
        if prefect:
            result |= _prefect_overhead(runtime, enrollments, batch, seconds / max(batches, 1))
        runtime.engine.dispose()
    return result | {"database": dialect(url), "peak_rss_mb": peak_rss_mb(), "machine": machine()}


def _seed(runtime: Runtime, count: int) -> None:
    now = runtime.clock.now()
    customers = seed_customers(runtime.engine, now, count)
    seed_enrollments(runtime.engine, runtime.book, now, due=customers, waiting=0)


def _sweep(runtime: Runtime, batch: int, run_group: Any) -> tuple[int, int]:
    moves = batches = 0
    while ids := claim_due(runtime, limit=batch):
        moves += len(advance(runtime, ids, run_group=run_group).moves)
        batches += 1
    return moves, batches


def _raw_writes(runtime: Runtime, count: int) -> float:
    """The same rows the engine wrote — history and outbox rows copied, each enrollment
    updated once per move — as plain Core statements, in one transaction per batch."""
    with Session(runtime.engine) as session:
        history = [r.model_dump(exclude={"id"}) for r in session.exec(select(EnrollmentHistory))]
        outbox = [
            r.model_dump(exclude={"id"}) | {"key": f"raw:{r.key}"}
            for r in session.exec(select(OutboxMessage))
        ]
        ids = list(session.exec(select(Enrollment.id)).all())
        moves = int(session.exec(select(func.count()).select_from(EnrollmentHistory)).one())
    started = time.perf_counter()
    with runtime.engine.begin() as conn:
        conn.execute(insert(EnrollmentHistory), history)
        conn.execute(insert(OutboxMessage), outbox)
        for _ in range(max(1, moves // max(1, len(ids)))):
            conn.execute(
                update(Enrollment).where(col(Enrollment.id).in_(ids)).values(updated_at=func.now())
            )
    return time.perf_counter() - started


def _prefect_overhead(
    runtime: Runtime, count: int, batch: int, plain_per_batch: float
) -> dict[str, Any]:
    """The same work in a Prefect flow run per batch (one task run per node group), as the
    sweep runs it; the difference per batch is Prefect's."""
    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from journeykit.orchestration.flows import _group_runner
    from journeykit.service.runtime_factory import use_runtime

    @flow(name="bench-engine-batch")
    async def one_batch(limit: int) -> tuple[int, int]:
        ids = claim_due(runtime, limit=limit)
        report = advance(runtime, ids, run_group=_group_runner)
        return len(report.moves), report.groups

    _seed(runtime, count)
    use_runtime(lambda: runtime)
    try:
        with prefect_test_harness(server_startup_timeout=120):
            asyncio.run(one_batch(1))  # warm up: the first flow run pays for imports
            started, runs, groups = time.perf_counter(), 0, 0
            while True:
                moved, grouped = asyncio.run(one_batch(batch))
                if not moved:
                    break
                runs, groups = runs + 1, groups + grouped
            seconds = time.perf_counter() - started
    finally:
        use_runtime(None)
    per_batch = seconds / max(runs, 1)
    return {
        "prefect_batches": runs,
        "prefect_task_runs": groups,
        "prefect_seconds": round(seconds, 3),
        "prefect_overhead_per_batch_s": round(per_batch - plain_per_batch, 3),
        "prefect_overhead_per_task_run_ms": round(
            (per_batch - plain_per_batch) * 1000 * runs / max(groups, 1), 1
        ),
    }

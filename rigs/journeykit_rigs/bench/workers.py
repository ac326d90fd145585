"""Several workers — separate processes, each with its own engine and owner name — advance
the same database at once, on a shared virtual time. Each returns what it claimed, so a
caller can check that no enrollment was taken twice."""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, func, select

from journeykit.engine.advance import advance, claim_due, claimable
from journeykit.timing.clock import VirtualClock


@dataclass
class WorkerResult:
    owner: str
    claimed: list[int] = field(default_factory=list)
    moves: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


def claimable_left(session: Session, now: datetime) -> int:
    """Due enrollments no live lease holds (a crashed worker's expire with its lease)."""
    return int(session.exec(select(func.count()).where(*claimable(now))).one())


def work(url: str, owner: str, now: datetime, batch: int, go: Any = None) -> WorkerResult:
    """Claim and advance batches until nothing is due (on a clock stopped at ``now``)."""
    from journeykit_rigs.bench.journey import bench_book
    from journeykit_rigs.bench.runtime import bench_runtime

    clock = VirtualClock(now)
    runtime = bench_runtime(url, clock=clock, owner=owner, book=bench_book(), pool_size=2)
    result = WorkerResult(owner)
    if go is not None:
        go.wait(120)  # a barrier: every worker starts at once
    started = time.perf_counter()
    try:
        while True:
            ids = claim_due(runtime, limit=batch)
            if not ids:
                with Session(runtime.engine) as session:
                    if claimable_left(session, now) == 0:
                        break
                time.sleep(0.01)  # others hold the rest: wait for them to park or finish
                continue
            report = advance(runtime, ids)
            result.claimed += ids
            result.moves += len(report.moves)
            result.errors += report.errors
            result.batches += 1
    finally:
        result.seconds = time.perf_counter() - started
        runtime.engine.dispose()
    return result


def _entry(url: str, owner: str, now: datetime, batch: int, go: Any, out: Any) -> None:
    try:
        out.put(work(url, owner, now, batch, go))
    except BaseException as exc:  # reported to the parent, never lost
        out.put(WorkerResult(owner, errors=[f"{type(exc).__name__}: {exc}"]))


def run_workers(url: str, *, workers: int, now: datetime, batch: int = 100) -> list[WorkerResult]:
    """Start ``workers`` processes together; wait for all; their results by owner."""
    context = multiprocessing.get_context("spawn")
    go, out = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_entry, args=(url, f"worker-{n}", now, batch, go, out))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    results = [out.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(30)
    return sorted(results, key=lambda r: r.owner)

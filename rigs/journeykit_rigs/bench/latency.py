"""``journeys bench latency``: event accepted over HTTP -> message accepted by the provider, in
the production topology (rigs/journeykit_rigs/topology: a Prefect server process on
PostgreSQL, ``journeys deploy``, two process workers, ``journeys serve`` with ``worker``
delivery, two ``journeys worker`` processes, the sandbox), with the topology test's run:
adversarial order, an event worker SIGKILLed mid-batch, the Prefect server restarted. One JSON
object: latency p50/p99/max, missing, doubled, the load average and the CPU seconds of every
process of the topology (issue 14's target: p50 <= 2 s, p99 <= 10 s)."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from journeykit_rigs.topology.postgres import ExistingPostgres, available, postgres_server
from journeykit_rigs.topology.scenario import run
from journeykit_rigs.topology.topology import Database, Topology


@contextmanager
def database(postgres_url: str | None) -> Iterator[Database]:
    """The given server, or a throwaway PostgreSQL 15 one."""
    if postgres_url:
        yield ExistingPostgres(postgres_url)
        return
    if not available():
        raise RuntimeError(
            "no --postgres-url and no PostgreSQL 15 binaries (JOURNEYKIT_PG_BIN) to start one"
        )
    with postgres_server() as server:
        yield server


def _cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def run_latency(
    *,
    project: Path,
    postgres_url: str | None = None,
    logs: Path | None = None,
    restart_prefect: bool = True,
    steady_orders: int = 30,
    steady_per_s: float = 2.0,
) -> dict[str, Any]:
    """Start the topology from ``project``, run the scenario (with or without the Prefect
    server's restart), stop it; the summary."""
    workdir = Path(tempfile.mkdtemp(prefix="jk-bench-latency-"))
    began = time.monotonic()
    cpu_before = _cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
    with database(postgres_url) as db:
        topology = Topology(project=project, workdir=workdir, postgres=db)
        try:
            topology.start()
            summary, _ = run(
                topology,
                restart_prefect=restart_prefect,
                steady_orders=steady_orders,
                steady_per_s=steady_per_s,
            )
            load = os.getloadavg()
        finally:
            topology.stop()
            if logs is not None:
                topology.keep_logs(logs)
    # every process of the topology was a child of this one, waited for by now
    cpu = _cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - cpu_before
    latency = summary["latency_s"]
    return {
        "p50_s": latency["p50"],
        "p99_s": latency["p99"],
        "max_s": latency["max"],
        "expected": summary["expected"],
        "missing": summary["missing"],
        "doubled": summary["duplicated"],
        "events_posted": summary["events_posted"],
        "load_average": [round(x, 2) for x in load],
        "cpu_seconds": round(cpu + _cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)), 1),
        "faults": summary["faults"],
        "phases_s": summary["phases_s"],
        "scenario_seconds": summary["seconds"],
        "scheduled_runs_completed": summary["scheduled_runs_completed"],
        "answers": summary["answers"],
        "seconds": round(time.monotonic() - began, 1),
        "target_met": bool(
            latency["p50"] is not None
            and latency["p50"] <= 2.0
            and latency["p99"] <= 10.0
            and not summary["missing"]
            and not summary["duplicated"]
        ),
    }

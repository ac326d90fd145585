"""The production topology as ops run it (docs/ops.md, "Tested topology"): a Prefect server
process on PostgreSQL, ``journeys deploy``, two process workers (the sweep, the scheduled
runs), ``journeys serve`` storing events (``worker`` delivery) and two ``journeys worker``
processes applying them, the provider sandbox; store events posted over HTTP in adversarial
order; an event worker SIGKILLed mid-run and the Prefect server restarted mid-run. Every
expected message reaches the sandbox exactly once, in order per subject. Prints a JSON
summary (counts, latency from HTTP accept to sandbox accept); no wall-clock assertions."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from journeykit_rigs.topology.scenario import run
from journeykit_rigs.topology.topology import Topology

from tests.support.postgres import PostgresServer

PROJECT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.slow, pytest.mark.prefect, pytest.mark.postgres]


@pytest.fixture
def topology(postgres: PostgresServer) -> Iterator[Topology]:
    workdir = Path(tempfile.mkdtemp(prefix="jk-topology-"))
    started = Topology(project=PROJECT, workdir=workdir, postgres=postgres)
    try:
        started.start()
        yield started
    except BaseException:
        print(started.log_tails())
        raise
    finally:
        started.stop()
        kept = os.environ.get("TOPOLOGY_LOGS_DIR")  # CI: keep the logs as artifacts
        if kept:
            started.keep_logs(Path(kept))


@pytest.mark.timeout(1200)
def test_production_topology_delivers_every_message_once_in_order(topology: Topology) -> None:
    summary, verdict = run(topology)
    print("topology summary:", json.dumps(summary, indent=1))
    failures = []  # every check, so one run shows all that is wrong
    if summary["answers"] != {"202": summary["events_posted"]}:
        failures.append(f"not every event was accepted: {summary['answers']}")
    if verdict.missing:
        failures.append(f"{len(verdict.missing)} messages missing: {summary['missing_examples']}")
    if verdict.duplicated or verdict.duplicate_keys:
        failures.append(f"messages sent twice: {summary['duplicated_examples']}")
    if verdict.wrong_content:
        failures.append(f"messages about the wrong subject: {verdict.wrong_content}")
    if summary["faults"]["worker_killed_after_s"] is None:
        failures.append("the killed worker never ran a flow run before it was killed")
    if summary["scheduled_runs_completed"] < 1:
        failures.append("no scheduled run completed: the scheduler does not work")
    if failures:
        print(topology.log_tails())
    assert not failures, "\n".join(failures)

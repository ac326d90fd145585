"""``journeys bench scaleout`` at a tiny size: one restock fan-out on PostgreSQL advanced and
sent by 1 and 2 worker processes at once; every enrollment claimed by exactly one worker,
every message sent once, the work shared (counts only, never timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from journeykit_rigs.topology.postgres import available
from typer.testing import CliRunner

from journeykit.cli.app import app

SUBSCRIBERS = 12
MOVES_EACH = 7  # restock: in_this_wave ... alert_sms -> wait_purchase


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not available(), reason="no PostgreSQL 15 binaries (JOURNEYKIT_PG_BIN)")
def test_scaleout_divides_one_fanout_between_workers() -> None:
    journeys = Path(sys.executable).parent / "journeys"
    done = subprocess.run(
        [str(journeys), "bench", "scaleout", "-n", str(SUBSCRIBERS), "--workers", "1,2",
         "--latency-ms", "0", "--batch", "4", "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert [run["workers"] for run in out["runs"]] == [1, 2]
    for run in out["runs"]:
        workers = run["per_worker"]
        assert len(workers) == run["workers"]
        assert run["enrolled"] == SUBSCRIBERS
        assert run["messages"] == 2 * SUBSCRIBERS and run["outbox"] == {"sent": 2 * SUBSCRIBERS}
        assert sum(w["enrollments"] for w in workers) == SUBSCRIBERS  # each claimed once
        assert sum(w["moves"] for w in workers) == run["moves"] == MOVES_EACH * SUBSCRIBERS
        assert sum(w["sent"]["email"] + w["sent"]["sms"] for w in workers) == 2 * SUBSCRIBERS
        assert set(run["cpu_seconds"]) == {"workers", "postgres"}
        assert run["cpu_ms_per_message"] > 0 and set(run["load_average"]) == {"start", "end"}
        assert 0 <= run["machine_cpu_busy"] <= 1
    two = out["runs"][1]["per_worker"]
    assert all(w["enrollments"] > 0 for w in two), "a worker got no share of the work"


def test_scaleout_rejects_bad_worker_counts() -> None:
    result = CliRunner().invoke(app, ["bench", "scaleout", "--workers", "1,two"])
    assert result.exit_code == 1 and "--workers must be whole numbers" in result.output
    result = CliRunner().invoke(app, ["bench", "scaleout", "--workers", "0,2"])
    assert result.exit_code == 1 and "--workers must each be at least 1" in result.output


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.prefect
@pytest.mark.skipif(not available(), reason="no PostgreSQL 15 binaries (JOURNEYKIT_PG_BIN)")
def test_scaleout_with_prefect_runs_each_round_as_a_sweep_flow_run() -> None:
    """``--prefect``: a Prefect server process on the same PostgreSQL, every round a
    ``journeykit-sweep`` flow run; the same counts, and the server's CPU beside."""
    journeys = Path(sys.executable).parent / "journeys"
    done = subprocess.run(
        [str(journeys), "bench", "scaleout", "-n", "6", "--workers", "2", "--latency-ms", "0",
         "--batch", "2", "--prefect", "--json"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    (run,) = out["runs"]
    assert "flow runs" in out["rounds"]
    assert run["messages"] == 12 and run["outbox"] == {"sent": 12}
    assert sum(w["enrollments"] for w in run["per_worker"]) == 6
    assert sum(w["sent"]["email+sms"] for w in run["per_worker"]) == 12
    assert set(run["cpu_seconds"]) == {"workers", "postgres", "prefect_server"}

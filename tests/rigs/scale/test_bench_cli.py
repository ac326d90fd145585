"""Every ``journeys bench`` command at a tiny size: one JSON object with the documented keys
and values that add up (no timing assertions: speed is in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeykit.cli.app import app

runner = CliRunner()


def bench(*args: str) -> dict:
    result = runner.invoke(app, ["bench", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_fanout_reports_messages_rate_floor_and_memory() -> None:
    out = bench("fanout", "--subscribers", "6", "--latency-ms", "5", "--sms-per-second", "50")
    assert {"messages", "seconds", "messages_per_s", "floor_ratio", "peak_rss_mb"} <= set(out)
    assert out["enrolled"] == 6
    assert out["messages"] == 12 and out["by_channel"] == {"email": 6, "sms": 6}
    assert out["outbox"] == {"sent": 12}
    assert out["floor_seconds"] > 0 and out["floor_ratio"] > 0
    assert out["peak_rss_mb"] > 0


def test_fanout_unthrottled_has_no_floor() -> None:
    out = bench("fanout", "-n", "3", "--latency-ms", "0", "--unthrottled")
    assert out["messages"] == 6
    assert out["floor_ratio"] is None and out["unthrottled"] is True


def test_fanout_no_send_is_the_engine_alone() -> None:
    out = bench("fanout", "-n", "4", "--no-send")
    assert out["enrolled"] == 4 and out["moves"] == 28 and out["outbox"] == {"queued": 8}
    assert out["engine_cpu_ms_per_message"] > 0 and out["peak_rss_mb"] > 0
    enrolled = bench("fanout", "-n", "4", "--no-send", "--enroll-only")
    assert enrolled["enrolled"] == 4 and enrolled["moves"] == 0 and enrolled["outbox"] == {}


def test_sweep_advances_what_is_due_through_the_index() -> None:
    out = bench("sweep", "--waiting", "50", "--due", "7", "--batch", "3")
    assert {"seconds", "advanced"} <= set(out)
    assert out["advanced"] == 7 and out["moves"] == 35 and out["errors"] == 0
    assert any("ix_enrollment_due" in line for line in out["claim_plan"])


@pytest.mark.postgres
def test_sweep_on_postgresql(postgres_url: str) -> None:
    out = bench("sweep", "--waiting", "40", "--due", "4", "--database-url", postgres_url)
    assert out["advanced"] == 4 and out["database"] == "postgresql"
    assert any("LockRows" in line for line in out["claim_plan"])


def test_engine_reports_per_node_cost_and_raw_writes() -> None:
    out = bench("engine", "-n", "6", "--batch", "4", "--no-prefect")
    assert out["moves"] == 30 and out["batches"] == 2
    assert set(out["per_node_ms"]) == {"pause", "in_stock", "by_email", "remind", "rest"}
    assert out["raw_writes_seconds"] > 0 and out["engine_to_raw_ratio"] > 0


@pytest.mark.slow
@pytest.mark.prefect
def test_engine_measures_prefect_overhead() -> None:
    """In its own process, as a user runs it: the Prefect test harness it starts must not
    meet what earlier tests in this worker left behind (it hung once, in-process, in CI)."""
    journeys = Path(sys.executable).parent / "journeys"
    done = subprocess.run(
        [str(journeys), "bench", "engine", "-n", "6", "--batch", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # one task run per batch: its group runs on through the journey's five instant nodes
    assert out["prefect_batches"] == 2 and out["prefect_task_runs"] == 2


def test_bad_size_is_a_clear_error() -> None:
    result = runner.invoke(app, ["bench", "fanout", "--subscribers", "0"])
    assert result.exit_code == 1
    assert "--subscribers must be at least 1" in result.output
    assert "Traceback" not in result.output


def test_ingest_counts_every_accepted_request_as_a_row() -> None:
    out = bench("ingest", "--requests", "12", "--concurrency", "4", "--kinds", "mixed")
    assert {"requests_per_s", "latency_ms", "rows", "lost", "doubled", "cpu_seconds"} <= set(out)
    assert out["accepted"] == {"events": 6, "twilio_status": 6}
    assert out["rows"] == {"events": 6, "twilio_status": 6}
    assert out["lost"] == 0 and out["doubled"] == 0 and out["stored_without_202"] == 0
    assert set(out["latency_ms"]["events"]) == {"p50", "p99", "max"}
    assert out["event_delivery"] == "worker" and out["mode"] == "closed loop"


@pytest.mark.postgres
def test_ingest_open_loop_with_two_web_workers_stores_every_event_once(postgres_url: str) -> None:
    out = bench(
        "ingest", "--requests", "20", "--concurrency", "4", "--rate", "200", "--web-workers", "2",
        "--database-url", postgres_url,
    )  # fmt: skip
    assert out["mode"] == "open loop" and out["web_workers"] == 2
    assert out["accepted"] == {"events": 20} and out["rows"]["events"] == 20
    assert out["lost"] == 0 and out["doubled"] == 0
    assert out["database"] == "postgresql" and out["cpu_seconds"]["postgres"] is not None
    # the latency over time: the requests due in each second of the run, all of them
    seconds = out["latency_ms_by_second"]
    assert sum(s["requests"] for s in seconds) == 20
    assert all({"second", "requests", "p50", "p99", "max"} <= set(s) for s in seconds)


@pytest.mark.slow
@pytest.mark.prefect
def test_fanout_compare_naive_runs_the_same_audience_both_ways() -> None:
    """``--compare naive``: the same audience also goes through one Prefect task run per
    message (in its own process, under Prefect's test harness); both results and ratios."""
    journeys = Path(sys.executable).parent / "journeys"
    done = subprocess.run(
        [str(journeys), "bench", "fanout", "-n", "4", "--latency-ms", "0", "--unthrottled",
         "--compare", "naive", "--json"],
        capture_output=True, text=True, timeout=500,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["messages"] == 8 and out["outbox"] == {"sent": 8}
    naive = out["naive"]
    assert naive["subscribers"] == 4 and naive["task_runs"] == 8
    assert naive["messages"] == 8 and naive["by_channel"] == {"email": 4, "sms": 4}
    assert naive["outcomes"] == {"sent": 8}
    assert set(naive["cpu_seconds"]) == {"flow", "prefect_server", "sandbox"}
    assert naive["cpu_ms_per_message"] > 0
    assert set(out["ratio"]) == {"messages_per_s", "cpu_ms_per_message", "seconds"}
    assert all(v > 0 for v in out["ratio"].values())


def test_fanout_compare_rejects_an_unknown_design() -> None:
    result = runner.invoke(app, ["bench", "fanout", "-n", "2", "--compare", "celery"])
    assert result.exit_code == 1 and "--compare must be naive" in result.output
    result = runner.invoke(app, ["bench", "fanout", "-n", "2", "--compare", "naive", "--no-send"])
    assert result.exit_code == 1 and "--compare needs sending" in result.output


def test_sweep_against_a_smaller_population_reports_both_and_the_ratio() -> None:
    args = ("--waiting", "60", "--due", "5", "--batch", "3", "--baseline-waiting", "20")
    out = bench("sweep", *args)
    assert out["waiting"] == 60 and out["advanced"] == 5 and out["enrollments"] == 65
    assert out["baseline"]["waiting"] == 20 and out["baseline"]["advanced"] == 5
    assert out["baseline"]["enrollments"] == 25
    assert set(out["ratio"]) == {"seconds", "cpu_seconds", "claim_seconds", "target"}
    assert out["ratio"]["target"] == 1.5 and out["ratio"]["seconds"] > 0
    assert set(out["load_average"]) == {"start", "end"}

"""SIGKILL the worker at random points during a restock wave, restart it, and check the
outcome from the database and the sandbox: each due message exactly once, nothing lost,
stuck or half-written. The CLI runs the same harness."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from journeykit_rigs.chaos.harness import ChaosConfig, run_chaos

CLI = [sys.executable, "-c", "from journeykit.cli.app import main; main()"]


def _assert_clean(result: dict[str, object], customers: int, trials: int) -> None:
    assert result["examples"] == []
    assert result["duplicates"] == result["lost"] == result["stuck"] == 0
    assert result["half_written"] == 0
    assert result["messages_sent"] == 3 * customers * trials


def test_killed_worker_sends_everything_exactly_once() -> None:
    config = ChaosConfig(trials=2, customers=40, kills_per_trial=3, seed=7, parallel=2)
    result = run_chaos(config).as_dict()
    # the kill points lie below the run's total progress: every one of them fires
    assert result["trials"] == 2 and result["kills"] == 6
    _assert_clean(result, 40, 2)


def test_cli_prints_the_counts_as_json(tmp_path) -> None:
    done = subprocess.run(
        [*CLI, "chaos", "--trials", "1", "--customers", "10", "--kills", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["trials"] == 1 and result["kills"] == 1
    _assert_clean(result, 10, 1)


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_full_chaos_run() -> None:
    """The issue's variant: 20 trials x 10,000 customers, 10 SIGKILLs each, two trials at a
    time (the run recorded in docs/reliability.md: `make test-slow` runs it in CI)."""
    config = ChaosConfig(
        trials=20,
        customers=10_000,
        kills_per_trial=10,
        seed=1,
        parallel=2,
        sms_status_callbacks=False,
    )
    result = run_chaos(config).as_dict()
    assert result["trials"] == 20 and result["kills"] == 20 * 10
    _assert_clean(result, 10_000, 20)

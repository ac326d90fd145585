"""Scheduling works on a real Prefect server: a ``prefect server start`` process (its own
PREFECT_HOME and SQLite database, a free port), a deployment with a schedule registered the
way ``journeys deploy`` registers them (``prefect deploy`` from a prefect.yaml), and the
server's scheduler must create its scheduled runs. With SQLAlchemy 2.1.x, Prefect 3.8.8's
scheduler fails on every loop (``Can't evaluate bulk DML statement``) and none appear."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

FLOW = """from prefect import flow


@flow(name="tick")
def tick() -> None:
    pass
"""

PREFECT_YAML = """name: scheduling-check
prefect-version: 3.8.8
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ $PWD }}"
deployments:
  - name: every-minute
    entrypoint: tick.py:tick
    schedules:
      - interval: 60
    work_pool:
      name: journeykit
      work_queue_name: default
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PREFECT_") or key == "PREFECT_LOGGING_LEVEL"
    }
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        # look for work to schedule often, so the test need not wait a minute
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A ``prefect server start`` process; yields (API URL, its log file)."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    port = free_port()
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=server_env(home), stdout=out, stderr=subprocess.STDOUT
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"prefect server exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield api, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scheduled_runs(api: str) -> list[dict[str, object]]:
    answer = httpx.post(
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 50},
        timeout=10,
    )
    answer.raise_for_status()
    runs: list[dict[str, object]] = answer.json()
    return runs


@pytest.mark.prefect
def test_the_server_scheduler_creates_scheduled_runs(
    tmp_path: Path, prefect_server: tuple[str, Path]
) -> None:
    api, log = prefect_server
    project = tmp_path / "project"
    project.mkdir()
    (project / "tick.py").write_text(FLOW)
    (project / "prefect.yaml").write_text(PREFECT_YAML)
    deployed = subprocess.run(
        [str(Path(sys.executable).parent / "journeys"), "deploy"],
        cwd=project,
        env=server_env(tmp_path / "prefect-home", api_url=api),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "registered 1 deployments" in deployed.stdout

    deadline = time.monotonic() + 30
    runs = scheduled_runs(api)
    while not runs and time.monotonic() < deadline:
        time.sleep(1)
        runs = scheduled_runs(api)
    assert runs, (
        "the Prefect server's scheduler created no scheduled runs; its log:\n"
        + log.read_text()[-4000:]
    )
    assert all(run["deployment_id"] for run in runs)

"""``journeys serve``: its options, and a real start (migrate, uvicorn, /healthz)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.sandbox.server import free_port


def test_serve_help_lists_host_and_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output


def test_serve_rejects_a_bad_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code != 0


def test_serve_starts_uvicorn_and_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "JOURNEYKIT_DATABASE__URL": f"sqlite:///{tmp_path}/serve.db",
        "JOURNEYKIT_WEB__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    journeys = Path(sys.executable).parent / "journeys"
    process = subprocess.Popen(
        [str(journeys), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180  # a loaded CI machine: imports take their time
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()  # read its output to the end: it must have ended first
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise AssertionError(f"journeys serve did not come up:\n{output}") from None
                time.sleep(0.1)
        assert answer.json() == {"status": "ok"}
        assert (tmp_path / "serve.db").exists()  # migrated on start
    finally:
        process.terminate()
        process.wait(10)

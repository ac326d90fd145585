"""Bad settings in the environment stop any ``journeys`` command with one clear line per
problem, naming the variable, and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

JOURNEYS = [sys.executable, "-c", "from journeykit.cli.app import main; main()"]


def run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYKIT_")}
    return subprocess.run(
        [*JOURNEYS, "status"], env={**clean, **env}, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_production_with_placeholder_secrets_is_refused(tmp_path: Path) -> None:
    done = run({"JOURNEYKIT_ENVIRONMENT": "production"}, tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "refuses placeholder secrets" in done.stderr and "JOURNEYKIT_API_KEY" in done.stderr


def test_a_malformed_value_names_its_variable(tmp_path: Path) -> None:
    done = run({"JOURNEYKIT_BATCH_SIZE": "lots"}, tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "JOURNEYKIT_BATCH_SIZE" in done.stderr and "lots" not in done.stderr

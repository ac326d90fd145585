"""CLI tests run the real ``journeys`` app through typer's CliRunner on real files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from journeykit.cli.app import app
from tests.authoring.conftest import waiting  # noqa: F401  (fixture)

ROOT = Path(__file__).parents[2]
JOURNEYS = ROOT / "journeys"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps long paths at 80 columns otherwise
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return invoke

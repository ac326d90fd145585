"""``journeys validate`` and ``journeys schema`` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeykit.cli.app import app
from tests.language.conftest import BROKEN, FIXTURES, GOOD, TEMPLATES

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["validate", *args, "--templates", str(TEMPLATES)])


def test_valid_journey_exits_0():
    result = run(str(GOOD))
    assert result.exit_code == 0, result.output
    assert "1 journey checked: 0 errors, 0 warnings" in result.output


def test_errors_exit_1_with_locations_and_summary():
    result = run(str(BROKEN / "dangling.yaml"), str(GOOD))
    assert result.exit_code == 1
    assert "dangling.yaml:9:11: error: wait node 'pause' says next: 'thank_yuo'" in result.output
    assert "2 journeys checked: 2 errors, 0 warnings" in result.output


def test_warnings_pass_unless_strict():
    path = str(BROKEN / "missing_locales.yaml")
    assert run(path).exit_code == 0
    result = run(path, "--strict")
    assert result.exit_code == 1
    assert "1 journey checked: 0 errors, 2 warnings" in result.output


def test_github_format():
    result = run(str(BROKEN / "bad_duration.yaml"), "--format", "github")
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if x.startswith("::error"))
    assert line.startswith("::error file=")
    assert "bad_duration.yaml,line=8,col=15::wait node 'pause': '3 dayz' is not a duration" in line


def test_default_paths_come_from_settings(monkeypatch: pytest.MonkeyPatch):
    from journeykit.foundation.settings import get_settings

    monkeypatch.setenv("JOURNEYKIT_JOURNEYS_DIR", str(FIXTURES / "journeys"))
    monkeypatch.setenv("JOURNEYKIT_TEMPLATES__DIR", str(TEMPLATES))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["validate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 journey checked" in result.output


def test_unexpected_exception_is_one_error_line(monkeypatch: pytest.MonkeyPatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("journeykit.language.checks.graph_errors", explode)
    result = run(str(GOOD))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "good.yaml: error: internal error while checking this file: RuntimeError: boom" in (
        result.output
    )


def test_binary_file_gives_no_traceback(tmp_path: Path):
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(bytes(range(256)))
    result = run(str(junk))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "junk.yaml:" in result.output


def test_schema_check():
    result = runner.invoke(app, ["schema", "--check"])
    assert result.exit_code == 0, result.output

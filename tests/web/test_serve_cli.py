"""``journeys serve`` is registered and documents its options."""

from __future__ import annotations

from typer.testing import CliRunner

from journeykit.cli.app import app


def test_serve_help_lists_host_and_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output


def test_serve_rejects_a_bad_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--port", "70000"])
    assert result.exit_code != 0

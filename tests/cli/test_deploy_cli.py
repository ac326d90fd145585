"""``journeys deploy``: lists what prefect.yaml registers; without a server it says how to
start one (registering against a live server is shown in docs/ops.md)."""

from __future__ import annotations

import shutil

import yaml

from journeykit.cli.deploy import deployments
from tests.cli.conftest import ROOT


def test_each_journey_deployment_runs_its_journey_and_is_tagged_with_it() -> None:
    listed = {d["name"]: d for d in deployments(ROOT / "prefect.yaml")}
    journeys = {p.stem for p in (ROOT / "journeys").glob("*.yaml")}
    assert {"sweep", "event", "reports"} <= set(listed)  # reports: docs/reports.md
    for name in set(listed) - {"sweep", "event", "reports"}:
        assert name in journeys, f"deployment {name} names no journey file"
        assert f"journey:{name}" in listed[name]["tags"]
        assert listed[name]["entrypoint"] == f"flows/{name}.py:{name}"
        assert (ROOT / "flows" / f"{name}.py").is_file()
        assert listed[name]["work_pool"]["name"] == "journeykit"


def test_dry_run_lists_the_deployments(cli) -> None:
    result = cli("deploy", "--prefect-file", str(ROOT / "prefect.yaml"), "--dry-run")
    assert result.exit_code == 0, result.output
    count = len(yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"])
    assert f"{count} deployments in" in result.output
    assert "flows/sweep.py:handle_event" in result.output


def test_without_a_server_it_says_how_to_start_one(cli, monkeypatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = cli("deploy", "--prefect-file", str(ROOT / "prefect.yaml"))
    assert result.exit_code == 1
    assert "no Prefect server is configured" in " ".join(result.output.split())


def test_a_missing_prefect_file_is_one_clear_error(cli, tmp_path) -> None:
    result = cli("deploy", "--prefect-file", str(tmp_path / "prefect.yaml"))
    assert result.exit_code == 1 and "no such file" in " ".join(result.output.split())


def test_prefect_yaml_agrees_with_the_journeys(cli) -> None:
    result = cli("deploy", "--check", "--prefect-file", str(ROOT / "prefect.yaml"))
    assert result.exit_code == 0, result.output
    assert "agrees with the 7 journeys" in result.output


def _project(tmp_path):
    shutil.copytree(ROOT / "journeys", tmp_path / "journeys")
    shutil.copytree(ROOT / "flows", tmp_path / "flows")
    shutil.copy(ROOT / "prefect.yaml", tmp_path / "prefect.yaml")
    return tmp_path


def test_check_fails_with_a_diff_and_write_brings_them_in_step(cli, tmp_path) -> None:
    project = _project(tmp_path)
    prefect_file = project / "prefect.yaml"
    source = (project / "journeys" / "restock.yaml").read_text()
    (project / "journeys" / "restock_vip.yaml").write_text(
        source.replace("name: restock\n", "name: restock_vip\n", 1)
    )
    args = ["--prefect-file", str(prefect_file), "--journeys", str(project / "journeys")]
    result = cli("deploy", "--check", *args)
    assert result.exit_code == 1
    assert "+  - name: restock_vip" in result.output
    assert "+    entrypoint: flows/restock_vip.py:restock_vip" in result.output
    assert "missing flow module" in result.output and "restock_vip.py" in result.output
    assert "journeys deploy --write" in " ".join(result.output.split())

    result = cli("deploy", "--write", *args)
    assert result.exit_code == 0, result.output
    flow = (project / "flows" / "restock_vip.py").read_text()
    assert 'restock_vip = journey_flow("restock_vip")' in flow
    listed = {d["name"]: d for d in deployments(prefect_file)}
    assert listed["restock_vip"]["tags"][:2] == ["journeykit", "journey:restock_vip"]
    assert cli("deploy", "--check", *args).exit_code == 0

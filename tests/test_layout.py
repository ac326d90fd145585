"""Every journey in journeys/ has its Prefect entry point in flows/ and a deployment in
prefect.yaml, and every flow module's flow is named after its journey."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
JOURNEYS = sorted(p.stem for p in (ROOT / "journeys").glob("*.yaml"))


def test_each_journey_has_a_flow_and_a_deployment() -> None:
    deployments = {
        d["name"]: d for d in yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]
    }
    for name in JOURNEYS:
        assert (ROOT / "flows" / f"{name}.py").exists(), f"flows/{name}.py is missing"
        assert name in deployments, f"prefect.yaml has no deployment for {name}"
        assert deployments[name]["entrypoint"] == f"flows/{name}.py:{name}"
        assert f"journey:{name}" in deployments[name]["tags"]


def test_flow_modules_export_a_flow_named_after_the_journey() -> None:
    for name in JOURNEYS:
        spec = importlib.util.spec_from_file_location(
            f"flows_{name}", ROOT / "flows" / f"{name}.py"
        )
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert getattr(module, name).name == name

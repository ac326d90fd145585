"""``prefect.yaml`` generated from ``journeys/``: the shared deployments (the safety sweep,
the event handler, the reports) and one deployment per journey, named after it, running the
flow of ``flows/<journey>.py``, tagged with the journey and the channels its send nodes use.
A journey's deployment has no schedule of its own: its runs are wake-ups created at the
minutes its work is due (orchestration/wakeups.py). The safety sweep's interval is the
setting ``schedule.safety_sweep_seconds``.

``journeys deploy --check`` compares the file with what the journeys give (exit 1 with a
diff when they disagree); ``journeys deploy --write`` rewrites it and adds a missing
``flows/<journey>.py``. Everything here is text in, text out: no Prefect import."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from journeykit.language.journey import Journey
from journeykit.language.nodes import SendNode

HEADER = """\
# Prefect deployments for Journeykit: one per journey, the safety sweep, and the event handler.
# Generated from journeys/ by `journeys deploy --write`; `journeys deploy --check` fails when
# this file and the journeys disagree. Edit HEADER in journeykit/orchestration/deployments.py
# for the shared deployments; a journey's deployment comes from its YAML file.
# A journey's deployment has no schedule: Journeykit creates its runs at the minutes its work
# is due ("restock · 120 due", tagged wake-up); the safety sweep catches what they miss.
# Run a worker:  prefect work-pool create journeykit --type process
#                prefect deploy --all && prefect worker start --pool journeykit
name: journeykit
prefect-version: 3.8.8

pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ $PWD }}"

definitions:
  work_pool: &pool
    name: journeykit
    work_queue_name: default
  tags: &tags [journeykit]

deployments:
  - name: sweep
    entrypoint: flows/sweep.py:sweep
    description: >-
      Safety sweep: apply pending events, advance and send whatever is overdue in every
      journey (missed wake-ups, a worker killed mid-run), prune receipts, schedule wake-ups.
    schedules:
      - interval: {sweep_seconds}
    tags: [journeykit, sweep]
    work_pool: *pool

  - name: event
    entrypoint: flows/sweep.py:handle_event
    description: Record a domain event and advance what it touched at once.
    tags: [journeykit, event]
    work_pool: *pool
    triggers:
      - type: event
        enabled: true
        match:
          prefect.resource.id: "journeykit.event.*"
        expect: ["journeykit.event.received"]
        parameters:
          event: "{{ event.payload.event }}"
          key: "{{ event.payload.key }}"

  - name: reports
    entrypoint: flows/reports.py:publish_reports
    description: What the journeys earn (docs/reports.md) as report-<journey> artifacts.
    schedules: [{interval: 3600}]
    tags: [journeykit, reports]
    work_pool: *pool
"""

FLOW_MODULE = '''"""Prefect entry point for journeys/{name}.yaml: its runs (the wake-ups).
Declare journey-specific actions here with `journeykit.engine.registry.action` (this file is
one of `[tool.journeykit] flow_modules`, so validate, the simulator and the worker know them)."""

from journeykit.orchestration.flows import journey_flow

{name} = journey_flow("{name}")
'''


@dataclass(frozen=True)
class DeploymentCheck:
    """How ``prefect.yaml`` and the flow modules differ from what the journeys give."""

    diff: str
    missing_flows: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return not self.diff and not self.missing_flows


def journey_deployment(journey: Journey) -> str:
    """The ``prefect.yaml`` entry of one journey."""
    channels = sorted({n.channel for n in journey.nodes if isinstance(n, SendNode)})
    tags = ", ".join(
        ["journeykit", f'"journey:{journey.name}"', *(f'"channel:{c}"' for c in channels)]
    )
    return (
        f"  - name: {journey.name}\n"
        f"    entrypoint: {flow_entrypoint(journey.name)}\n"
        f"    description: {_quoted(summary(journey))}\n"
        f"    tags: [{tags}]\n"
        f"    work_pool: *pool\n"
    )


def flow_entrypoint(name: str) -> str:
    return f"flows/{name}.py:{name}"


def summary(journey: Journey) -> str:
    """The journey's ``summary``, else the first sentence of its description, else its name."""
    if journey.summary:
        return journey.summary
    text = " ".join(journey.description.split())
    if not text:
        return journey.name
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


def render_prefect_yaml(journeys: list[Journey], sweep_seconds: int) -> str:
    """The whole ``prefect.yaml``: the shared deployments (the safety sweep every
    ``sweep_seconds``), then each journey by name."""
    header = HEADER.replace("{sweep_seconds}", str(sweep_seconds))
    parts = [header, *(journey_deployment(j) for j in sorted(journeys, key=lambda j: j.name))]
    return "\n".join(parts)


def check_deployments(
    journeys: list[Journey], prefect_file: Path, sweep_seconds: int
) -> DeploymentCheck:
    """Compare ``prefect_file`` and the flows directory beside it with ``journeys``."""
    wanted = render_prefect_yaml(journeys, sweep_seconds)
    current = prefect_file.read_text(encoding="utf-8") if prefect_file.is_file() else ""
    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            wanted.splitlines(keepends=True),
            fromfile=f"{prefect_file} (now)",
            tofile=f"{prefect_file} (from journeys/)",
        )
    )
    flows = prefect_file.parent / "flows"
    missing = tuple(
        flows / f"{j.name}.py" for j in journeys if not (flows / f"{j.name}.py").is_file()
    )
    return DeploymentCheck(diff, missing)


def write_deployments(
    journeys: list[Journey], prefect_file: Path, sweep_seconds: int
) -> list[Path]:
    """Write ``prefect_file`` and any missing ``flows/<journey>.py``; the files written."""
    written: list[Path] = []
    check = check_deployments(journeys, prefect_file, sweep_seconds)
    if check.diff:
        prefect_file.write_text(render_prefect_yaml(journeys, sweep_seconds), encoding="utf-8")
        written.append(prefect_file)
    for path in check.missing_flows:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(FLOW_MODULE.format(name=path.stem), encoding="utf-8")
        written.append(path)
    return written


def _quoted(text: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted."""
    leading = "-?:,[]{}#&*!|>'\"%@`"
    if ": " in text or " #" in text or text.endswith(":") or text[:1] in leading:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return text

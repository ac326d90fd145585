"""``journeys deploy``: register the deployments in ``prefect.yaml`` (one per journey, the
safety sweep, the event handler) with the configured Prefect server, creating the ``journeykit``
process work pool first if it is missing. Then ``prefect worker start --pool journeykit``
runs them (see docs/ops.md). ``--check`` compares ``prefect.yaml`` with ``journeys/`` (exit 1
with a diff when they disagree); ``--write`` regenerates it from the journeys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from journeykit.cli.common import err, fail
from journeykit.foundation.settings import get_settings
from journeykit.language.errors import SpecErrors
from journeykit.language.journey import Journey
from journeykit.language.loading import load_journeys
from journeykit.orchestration.deployments import check_deployments, write_deployments

POOL = "journeykit"


def deployments(prefect_file: Path) -> list[dict[str, Any]]:
    """The deployments listed in ``prefect.yaml``."""
    from ruamel.yaml import YAML

    raw = YAML(typ="safe", pure=True).load(prefect_file.read_text(encoding="utf-8"))
    return list((raw or {}).get("deployments") or [])


def ensure_pool(api_url: str, name: str = POOL) -> bool:
    """Create the process work pool ``name`` unless it exists; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(name)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            return True


def deploy(
    prefect_file: Annotated[Path, typer.Option("--prefect-file", help="deployments file")] = Path(
        "prefect.yaml"
    ),
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only list the deployments")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="only check prefect.yaml against the journeys (exit 1 if not)"
        ),
    ] = False,
    write: Annotated[
        bool, typer.Option("--write", help="regenerate prefect.yaml from the journeys")
    ] = False,
    journeys_dir: Annotated[
        Path | None, typer.Option("--journeys", help="journeys directory (default: settings)")
    ] = None,
) -> None:
    """Register every deployment in prefect.yaml with the configured Prefect server."""
    if check or write:
        _check_or_write(prefect_file, journeys_dir, write=write)
        return
    from prefect.settings import PREFECT_API_URL

    if not prefect_file.is_file():
        fail(f"{prefect_file}: no such file", "run this in the project directory")
    console = Console(highlight=False, soft_wrap=True)
    listed = deployments(prefect_file)
    for item in listed:
        tags = ", ".join(item.get("tags") or [])
        console.print(f"  [bold]{item['name']}[/bold]  {item['entrypoint']}  [dim]{tags}[/dim]")
    if dry_run:
        console.print(f"{len(listed)} deployments in {prefect_file} (dry run: nothing registered)")
        return
    api_url = PREFECT_API_URL.value()
    if not api_url:
        fail(
            "no Prefect server is configured (PREFECT_API_URL is empty)",
            "start one with `prefect server start`, then "
            "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`",
        )
    try:
        created = ensure_pool(api_url)
    except Exception as exc:  # an unreachable server: one clear line
        fail(
            f"cannot reach the Prefect server at {api_url}: {exc}",
            "is `prefect server start` running?",
        )
    console.print(f"work pool {POOL!r} " + ("created (process)" if created else "exists"))
    from journeykit.delivery.ratelimit import ensure_rate_limits

    for limit in ensure_rate_limits(get_settings()):
        console.print(
            f"rate limit {limit.name!r}: {limit.limit} slots, {limit.slot_decay_per_second}/s"
        )
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--all"]
    command += ["--prefect-file", str(prefect_file)]
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
        bar.add_task(f"registering {len(listed)} deployments with {api_url}", total=None)
        done = subprocess.run(
            command,
            cwd=prefect_file.resolve().parent,
            capture_output=True,
            text=True,
            env={**os.environ, "PREFECT_API_URL": api_url},
            timeout=600,
        )
    if done.returncode != 0:
        console.print(done.stdout[-3000:], markup=False)
        fail("prefect deploy failed (its output is above)", f"command: {' '.join(command)}")
    console.print(f"[green]registered {len(listed)} deployments[/green] with {api_url}")
    console.print(f"run them with: prefect worker start --pool {POOL}")
    create_alerts(console)


def create_alerts(console: Console) -> None:
    """The automations that tell a person about failed, crashed, stuck runs, failed sends
    and due work left waiting (orchestration/automations.py); updated in place when rerun."""
    from prefect.client.orchestration import get_client

    from journeykit.orchestration.automations import ALERT_BLOCK, AlertTiming, ensure_automations

    try:
        with get_client(sync_client=True) as client:
            names, notifying = ensure_automations(client, AlertTiming.from_settings(get_settings()))
    except Exception as exc:  # the deployments are registered; say what is missing
        fail(f"could not create the automations: {exc}", "rerun `journeys deploy`")
    for name in names:
        console.print(f"  automation [bold]{name}[/bold]", markup=True)
    if notifying:
        console.print(f"[green]{len(names)} automations[/green] notify through {ALERT_BLOCK!r}")
    else:
        console.print(
            f"[yellow]{len(names)} automations created without notifications[/yellow]: create "
            f"a notification block named {ALERT_BLOCK!r} (Slack, email, webhook) in the Prefect "
            "UI, then run `journeys deploy` again; start workers with "
            "PREFECT_FLOWS_HEARTBEAT_FREQUENCY=30 so a stuck run is found in 90 s"
        )


def _check_or_write(prefect_file: Path, journeys_dir: Path | None, *, write: bool) -> None:
    settings = get_settings()
    journeys = _journeys(journeys_dir or settings.journeys_dir)
    sweep_seconds = settings.schedule.safety_sweep_seconds
    if write:
        written = write_deployments(journeys, prefect_file, sweep_seconds)
        for path in written:
            typer.echo(f"wrote {path}")
        if not written:
            typer.echo(f"unchanged: {prefect_file} agrees with the journeys")
        return
    result = check_deployments(journeys, prefect_file, sweep_seconds)
    if result.ok:
        typer.echo(f"{prefect_file} agrees with the {len(journeys)} journeys")
        return
    if result.diff:
        typer.echo(result.diff, nl=False)
    for path in result.missing_flows:
        typer.echo(f"missing flow module: {path}")
    fail(
        f"{prefect_file} does not match the journeys",
        "run `journeys deploy --write` to regenerate it (and add missing flow modules)",
    )


def _journeys(directory: Path) -> list[Journey]:
    try:
        return list(load_journeys(directory).values())
    except SpecErrors as exc:
        for error in exc.errors:
            err.print(error.format())
        fail(f"the journeys under {directory} have errors", "run `journeys validate`")


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)

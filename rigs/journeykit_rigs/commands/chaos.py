"""``journeys chaos``: SIGKILL a worker at random points during a restock wave, restart it,
and count duplicates, losses and stuck rows (docs/reliability.md)."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def chaos(
        trials: Annotated[
            int, typer.Option("--trials", min=1, help="runs, each on a fresh database")
        ] = 3,
        customers: Annotated[
            int, typer.Option("--customers", min=1, help="customers per run")
        ] = 300,
        kills: Annotated[int, typer.Option("--kills", min=0, help="SIGKILLs per trial")] = 6,
        seed: Annotated[int, typer.Option("--seed", help="seeds the kill points")] = 0,
        batch: Annotated[int, typer.Option("--batch", min=1, help="worker batch size")] = 500,
        concurrency: Annotated[
            int, typer.Option("--concurrency", min=1, help="provider requests in flight per worker")
        ] = 32,
        parallel: Annotated[
            int, typer.Option("--parallel", min=1, help="trials run at once (one process each)")
        ] = 1,
        status_callbacks: Annotated[
            bool,
            typer.Option(
                "--sms-status-callbacks/--no-sms-status-callbacks",
                help="Twilio status callbacks to the web app (load beside the worker)",
            ),
        ] = True,
        as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    ) -> None:
        """Crash the worker again and again; prove every message went out exactly once."""
        from journeykit_rigs.chaos.harness import ChaosConfig, run_chaos

        def progress(trial: int, killed: int, findings: object) -> None:
            if not as_json:
                typer.echo(f"trial {trial + 1}/{trials}: {killed} kills, {findings}")

        config = ChaosConfig(
            trials=trials,
            customers=customers,
            kills_per_trial=kills,
            seed=seed,
            batch=batch,
            concurrency=concurrency,
            parallel=parallel,
            sms_status_callbacks=status_callbacks,
        )
        report = run_chaos(config, on_trial=progress).as_dict()
        if as_json:
            typer.echo(json.dumps(report))
        else:
            typer.echo(
                "{trials} trials x {customers} customers, {kills} kills: {duplicates} "
                "duplicates, {lost} lost, {stuck} stuck, {half_written} half-written "
                "({messages_sent} messages sent)".format(**report)
            )
        bad = report["duplicates"] + report["lost"] + report["stuck"] + report["half_written"]
        raise typer.Exit(1 if bad else 0)

"""``journeys chaos``: SIGKILL a worker at random points during a restock wave, restart it,
and count duplicates, losses and stuck rows (docs/reliability.md)."""

from __future__ import annotations

import json

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def chaos(
        trials: int = typer.Option(3, "--trials", min=1, help="runs, each on a fresh database"),
        customers: int = typer.Option(300, "--customers", min=1, help="customers per run"),
        kills: int = typer.Option(6, "--kills", min=0, help="SIGKILLs per trial"),
        seed: int = typer.Option(0, "--seed", help="seeds the kill points"),
        batch: int = typer.Option(500, "--batch", min=1, help="worker batch size"),
        concurrency: int = typer.Option(
            32, "--concurrency", min=1, help="provider requests in flight per worker"
        ),
        parallel: int = typer.Option(
            1, "--parallel", min=1, help="trials run at once (one process each)"
        ),
        status_callbacks: bool = typer.Option(
            True,
            "--sms-status-callbacks/--no-sms-status-callbacks",
            help="Twilio status callbacks to the web app (load beside the worker)",
        ),
        as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
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

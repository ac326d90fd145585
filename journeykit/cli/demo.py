"""``journeys demo``: everything on the embedded default — SQLite, Prefect's ephemeral
server, the local provider sandbox — with a seeded store and every journey on a fast clock."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from journeykit.cli.common import load_book

if TYPE_CHECKING:
    from journeykit.engine.book import JourneyBook
    from journeykit.foundation.settings import Settings


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        sandbox: Annotated[
            bool,
            typer.Option(
                "--sandbox/--no-sandbox",
                help="send to the local sandbox, or to the configured URLs",
            ),
        ] = True,
        keep_open: Annotated[
            bool, typer.Option("--keep-open", help="keep the sandbox inbox open after the demo")
        ] = False,
        workdir: Annotated[Path, typer.Option(help="where the demo database goes")] = Path(
            ".journeykit/demo"
        ),
        port: Annotated[int, typer.Option(help="sandbox port (0: any free port)")] = 0,
    ) -> None:
        """Seed a small store, play every journey on a fast clock, print who got what, when."""
        # (the start-up timeout and analytics defaults are set for every command in app.py)
        for key, value in (("DO_NOT_TRACK", "1"), ("PREFECT_LOGGING_LEVEL", "WARNING")):
            os.environ.setdefault(key, value)
        from journeykit.foundation.settings import get_settings

        console = Console(width=None if sys.stdout.isatty() else 150)
        settings = get_settings()
        book = load_book()
        if not sandbox:
            _play(console, settings, book, workdir, None)
            return
        from journeykit.sandbox.server import SandboxServer

        with SandboxServer.from_settings(settings, port=port) as box:
            settings = settings.with_changes(
                {"providers.sendgrid.base_url": box.url, "providers.twilio.base_url": box.url}
            )
            console.print(f"[dim]provider sandbox at {box.url} (inbox: {box.url}/)[/dim]")
            _play(console, settings, book, workdir, box)
            if keep_open:
                console.print(f"Inbox open at [bold]{box.url}/[/bold] — Ctrl-C to stop.")
                with contextlib.suppress(KeyboardInterrupt):
                    box.wait()


def _play(console: Console, settings: Settings, book: JourneyBook, workdir: Path, box: Any) -> None:
    from journeykit.demo.run import demo_scenarios, run_demo

    steps = sum(len(scenario.events) for _, scenario in demo_scenarios())
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("playing the journeys (Prefect flow runs)", total=steps)
        result = run_demo(
            settings,
            book,
            workdir,
            box=box,
            on_step=lambda item: progress.update(
                task, advance=1, description=f"{item.at:%Y-%m-%d} {item.scenario.journey}"
            ),
        )
    table = Table(title="Who got what, when (each customer's local time)", title_justify="left")
    for column, width in (("customer", 22), ("when", 21), ("journey", 14), ("channel", 7),
                          ("what", 60), ("status", 16)):  # fmt: skip
        table.add_column(column, overflow="ellipsis", no_wrap=True, max_width=width)
    for message in result.messages:
        table.add_row(
            *(str(message[c]) for c in ("customer", "when", "journey", "channel", "what", "status"))
        )
    console.print(table)
    accepted = box.store.count() if box is not None else None
    console.print(
        f"{len(result.messages)} messages, {result.flow_runs} Prefect flow runs"
        + (f", {accepted} accepted by the sandbox" if accepted is not None else "")
        + f"; database: {result.database}"
    )
    if result.report is not None:
        console.print(f"Report page (open it in a browser): [bold]{result.report}[/bold]")
    for error in result.errors:
        console.print(f"[red]error:[/red] {error}")
    if result.errors:
        raise typer.Exit(1)

"""``journeys sweep``: advance what is due and send it, as a Prefect flow run."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        journey: Annotated[str | None, typer.Option(help="only this journey")] = None,
        limit: Annotated[int, typer.Option(min=1, help="enrollments per batch")] = 500,
    ) -> None:
        """Advance due enrollments and dispatch due messages once."""
        from journeykit.orchestration.flows import sweep as sweep_flow
        from journeykit.orchestration.run_outcome import outcome_counts, run_in_process

        state = run_in_process(sweep_flow(journey=journey, limit=limit, return_state=True))
        Console().print(outcome_counts(state))
        if state.is_failed():  # failed sends: say so, and exit 1 (journeys status tells why)
            Console(stderr=True).print(Text(f"{state.name}: {state.message}", style="red"))
            raise typer.Exit(1)

"""``journeys sweep``: advance what is due and send it, as a Prefect flow run."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        journey: Annotated[str | None, typer.Option(help="only this journey")] = None,
        limit: Annotated[int, typer.Option(min=1, help="enrollments per batch")] = 500,
    ) -> None:
        """Advance due enrollments and dispatch due messages once."""
        from journeykit.orchestration.flows import sweep as sweep_flow

        Console().print(asyncio.run(sweep_flow(journey=journey, limit=limit)))

"""``journeys reviews list [--pending]`` and ``journeys reviews approve|reject REVIEW_ID``:
the brand looks at the photos customers attached to reviews and decides which are shown
(``GET /reviews/{id}/photo`` serves approved ones only)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from journeykit.cli.common import DatabaseUrl, fail

STATUS_STYLE = {"pending": "yellow", "approved": "green", "rejected": "red"}
Database = DatabaseUrl


def _engine(database: str | None) -> Any:
    """The engine for ``--database`` (or JOURNEYKIT_DATABASE__URL), schema checked."""
    from journeykit.foundation.db import SchemaOutOfDate, ensure_schema, make_engine
    from journeykit.foundation.settings import get_settings

    settings = get_settings()
    url = database or settings.database.url
    try:
        ensure_schema(url, auto_upgrade=not database and settings.environment != "production")
    except SchemaOutOfDate as exc:
        fail(str(exc))
    except Exception as exc:  # a wrong URL, a server that is down: one clear line
        fail(f"cannot open {url}: {type(exc).__name__}", "check --database-url")
    return make_engine(url)


def list_command(
    pending: Annotated[
        bool, typer.Option("--pending", help="only photos awaiting a decision")
    ] = False,
    database: Database = None,
) -> None:
    """Reviews, newest first, with their photo's file and moderation status."""
    from journeykit.web.review_moderation import list_reviews

    engine = _engine(database)
    try:
        rows = list_reviews(engine, pending_only=pending)
    finally:
        engine.dispose()
    console = Console(highlight=False, soft_wrap=True)
    if not rows:
        console.print("no photos waiting for a decision" if pending else "no reviews yet")
        return
    table = Table(title="Reviews" + (" · photos pending" if pending else ""), title_justify="left")
    for name in ("id", "created", "product", "stars", "name", "title", "photo", "file"):
        table.add_column(name, justify="right" if name in ("id", "stars") else "left")
    for row in rows:
        # Customer strings are Text, never markup: "[/]" or "[green]approved[/]" in a review
        # is shown as typed and cannot fake the status column or crash the table.
        status = row.photo_status or "—"
        table.add_row(
            str(row.id),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            Text(row.product),
            str(row.rating),
            Text(row.name),
            Text(row.title),
            Text(status, style=STATUS_STYLE.get(status, "")),
            Text(row.photo_path or ""),
        )
    console.print(table)


def _decide(decision: str, review_id: int, database: str | None) -> None:
    from journeykit.web.review_moderation import ModerationError, moderate

    engine = _engine(database)
    try:
        before, after = moderate(engine, review_id, decision)
    except ModerationError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    shown = "served at /reviews/{id}/photo" if after == "approved" else "never served"
    change = f"{before} → {after}" if before != after else f"already {after}"
    Console(highlight=False).print(
        f"review {review_id}: photo {change} ({shown.format(id=review_id)})"
    )


def register(app: typer.Typer) -> None:
    reviews = typer.Typer(help="Review photos: list them, approve or reject.", no_args_is_help=True)
    reviews.command("list")(list_command)

    @reviews.command("approve")
    def approve(
        review_id: Annotated[int, typer.Argument(help="the review's id (journeys reviews list)")],
        database: Database = None,
    ) -> None:
        """Show this review's photo (GET /reviews/ID/photo serves it)."""
        _decide("approve", review_id, database)

    @reviews.command("reject")
    def reject(
        review_id: Annotated[int, typer.Argument(help="the review's id (journeys reviews list)")],
        database: Database = None,
    ) -> None:
        """Never show this review's photo."""
        _decide("reject", review_id, database)

    app.add_typer(reviews, name="reviews")

"""``journeys report demand|backorder``: what the journeys' data says, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from journeykit.cli.common import fail, load_book

DATABASE_HELP = "database URL (default: JOURNEYKIT_DATABASE__URL)"


@contextmanager
def _session(url: str | None) -> Iterator[Any]:
    """A read session on the configured database, or a clean error."""
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from journeykit.foundation.db import make_engine
    from journeykit.foundation.settings import get_settings

    target = url or get_settings().database.url
    if target.startswith("sqlite:///") and not Path(target.removeprefix("sqlite:///")).exists():
        fail(
            f"no database at {target}",
            "pass --database URL or set JOURNEYKIT_DATABASE__URL (create one: journeys db upgrade)",
        )
    engine = make_engine(target)
    try:
        with Session(engine) as session:
            yield session
    except SQLAlchemyError as exc:
        reason = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
        fail(
            f"cannot read the report from {target.split('@')[-1]}: {reason}",
            "run `journeys db upgrade` on it first",
        )
    finally:
        engine.dispose()


def _show(table: Any, data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        from rich.console import Console

        Console().print(table)


def register(app: typer.Typer) -> None:
    report = typer.Typer(help="Reports on what the journeys do.", no_args_is_help=True)

    def command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        return report.command(name)

    @command("demand")
    def demand(
        top: int = typer.Option(None, "--top", min=1, help="only the N most-requested variants"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
        database: str = typer.Option(None, "--database", help=DATABASE_HELP),
    ) -> None:
        """Most-requested out-of-stock variants (R4): shoppers waiting, oldest sign-up,
        channel split. Restock the top of this list first."""
        from journeykit.reports.demand import demand_report
        from journeykit.reports.tables import demand_table
        from journeykit.timing.clock import SystemClock

        with _session(database) as session:
            result = demand_report(session, top=top)
        _show(demand_table(result, SystemClock().now()), result.as_json(), as_json)

    @command("backorder")
    def backorder(
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
        database: str = typer.Option(None, "--database", help=DATABASE_HELP),
    ) -> None:
        """Order frequency and lifetime value of backorder buyers vs other customers (B6)."""
        from journeykit.reports.backorder import backorder_report
        from journeykit.reports.tables import backorder_table

        with _session(database) as session:
            result = backorder_report(session)
        _show(backorder_table(result), result.as_json(), as_json)

    @command("funnel")
    def funnel(
        journey: str = typer.Argument(..., help="journey name, e.g. abandoned_cart"),
        as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
        database: str = typer.Option(None, "--database", help=DATABASE_HELP),
        journeys: Path = typer.Option(None, "--journeys", help="journeys directory"),
        artifact: bool = typer.Option(
            False, "--artifact", help="also publish the table as a Prefect artifact"
        ),
    ) -> None:
        """Per node: entered, waited, sent, clicked, acted, converted; per A/B variant:
        enrollments, sends and conversions (C2, C3)."""
        from journeykit.reports.funnel import funnel_report
        from journeykit.reports.tables import funnel_table, variants_table

        book = load_book(journeys)
        if journey not in book.names():
            fail(f"no journey named {journey!r}", f"known: {', '.join(book.names())}")
        with _session(database) as session:
            result = funnel_report(session, journey, book.get(journey))
        if as_json:
            _show(None, result.as_json(), True)
        else:
            from rich.console import Console

            console = Console()
            console.print(funnel_table(result))
            if result.variants:
                console.print(variants_table(result))
        if artifact:
            from journeykit.reports.artifact import publish_funnel

            publish_funnel(result)

    app.add_typer(report, name="report")

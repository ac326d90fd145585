"""``journeys report <journey|demand|backorder>``: what the journeys' data says and earns,
as a table, JSON, or a self-contained HTML page with charts (``--html FILE``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from journeykit.cli.common import DatabaseUrl, fail, load_book

DATABASE_HELP = "database URL (default: JOURNEYKIT_DATABASE__URL)"
HTML_HELP = "also write a self-contained HTML page with charts to FILE (works offline)"


class JourneyOrCommand(TyperGroup):
    """``journeys report abandoned_cart ...``: a name that is not a command is a journey."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            journey = self.commands.get("journey")
            if journey is not None:
                return "journey", journey, args
        return super().resolve_command(ctx, args)


def _write_html(page: Any, path: Path) -> None:
    from journeykit.reports.page import write_page

    try:
        written = write_page(page, path)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", "pass a writable --html FILE")
    typer.echo(f"report page: {written}", err=True)


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
            "pass --database-url URL or set JOURNEYKIT_DATABASE__URL"
            " (create one: journeys db upgrade)",
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
    report = typer.Typer(
        help="Reports on what the journeys do and earn: `journeys report JOURNEY`, "
        "`journeys report demand`, `journeys report backorder`.",
        no_args_is_help=True,
        cls=JourneyOrCommand,
    )

    def command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        return report.command(name)

    @command("demand")
    def demand(
        top: Annotated[
            int | None, typer.Option("--top", min=1, help="only the N most-requested variants")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="print JSON instead of a table")
        ] = False,
        database: DatabaseUrl = None,
        html: Annotated[Path | None, typer.Option("--html", help=HTML_HELP, dir_okay=False)] = None,
    ) -> None:
        """Most-requested out-of-stock variants: shoppers waiting, revenue waiting
        (shoppers x price), oldest sign-up, channel split. Restock the top of this list
        first."""
        from journeykit.reports.demand import demand_report
        from journeykit.reports.report_pages import demand_page
        from journeykit.reports.tables import demand_table
        from journeykit.timing.clock import SystemClock

        now = SystemClock().now()
        with _session(database) as session:
            result = demand_report(session, top=top)
            page = demand_page(session, now=now) if html else None
        _show(demand_table(result, now), result.as_json(), as_json)
        if page is not None and html is not None:
            _write_html(page, html)

    @command("backorder")
    def backorder(
        as_json: Annotated[
            bool, typer.Option("--json", help="print JSON instead of a table")
        ] = False,
        database: DatabaseUrl = None,
        html: Annotated[Path | None, typer.Option("--html", help=HTML_HELP, dir_okay=False)] = None,
    ) -> None:
        """Order frequency and lifetime value of backorder buyers vs other customers, and
        delivered vs cancelled among backorders beside delayed orders."""
        from journeykit.reports.backorder import backorder_report
        from journeykit.reports.report_pages import backorder_page
        from journeykit.reports.tables import backorder_table
        from journeykit.timing.clock import SystemClock

        with _session(database) as session:
            result = backorder_report(session)
            page = backorder_page(session, now=SystemClock().now()) if html else None
        _show(backorder_table(result), result.as_json(), as_json)
        if page is not None and html is not None:
            _write_html(page, html)

    @command("funnel")
    def funnel(
        journey: Annotated[str, typer.Argument(help="journey name, e.g. abandoned_cart")],
        as_json: Annotated[
            bool, typer.Option("--json", help="print JSON instead of tables")
        ] = False,
        database: DatabaseUrl = None,
        journeys: Annotated[
            Path | None, typer.Option("--journeys", help="journeys directory")
        ] = None,
        artifact: Annotated[
            bool, typer.Option("--artifact", help="also publish the table as a Prefect artifact")
        ] = False,
    ) -> None:
        """Per node: entered, waited, sent, clicked, acted, converted; per A/B variant:
        enrollments, sends and conversions."""
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

    @command("journey")
    def journey_command(
        journey: Annotated[str, typer.Argument(help="journey name, e.g. abandoned_cart")],
        as_json: Annotated[
            bool, typer.Option("--json", help="print JSON instead of tables")
        ] = False,
        html: Annotated[Path | None, typer.Option("--html", help=HTML_HELP, dir_okay=False)] = None,
        database: DatabaseUrl = None,
        journeys: Annotated[
            Path | None, typer.Option("--journeys", help="journeys directory")
        ] = None,
        artifact: Annotated[
            bool,
            typer.Option("--artifact", help="also publish the page as a Prefect markdown artifact"),
        ] = False,
    ) -> None:
        """What one journey earns: orders and revenue attributed to its messages (per node,
        A/B arm and day), message rates, A/B verdicts, its funnel (`journeys report
        JOURNEY` works too)."""
        from journeykit.foundation.settings import get_settings
        from journeykit.reports.journey_report import journey_report
        from journeykit.reports.report_pages import journey_page
        from journeykit.reports.tables import earned_table, funnel_table, verdicts_table
        from journeykit.timing.clock import SystemClock

        book = load_book(journeys)
        if journey not in book.names():
            fail(
                f"no journey named {journey!r}",
                f"known: {', '.join(book.names())} (or: demand, backorder, funnel)",
            )
        settings, now = get_settings(), SystemClock().now()
        with _session(database) as session:
            result = journey_report(session, journey, book.get(journey), settings=settings)
        page = journey_page(result, now=now)
        if as_json:
            _show(None, result.as_json(), True)
        else:
            from rich.console import Console

            console = Console()
            console.print(earned_table(result))
            if result.verdicts:
                console.print(verdicts_table(result))
            console.print(funnel_table(result.funnel))
        if html:
            _write_html(page, html)
        if artifact:
            from journeykit.reports.report_artifact import publish_page

            typer.echo(f"artifact: {publish_page(page, journey)}", err=True)

    app.add_typer(report, name="report")

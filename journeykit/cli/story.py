"""``journeys customer ID|EMAIL|PHONE`` and ``journeys order NUMBER``: the story of one
customer or order (events received, enrollments and each move, messages with status and
provider id, actions, consent changes) as a timeline readable at 80 columns; ``--artifact``
also publishes it as a Prefect markdown artifact (key ``story-customer-<id>`` /
``story-order-<number>``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from journeykit.cli.common import DatabaseUrl, fail

ARTIFACT = typer.Option("--artifact", help="also publish it as a Prefect markdown artifact")
MARKDOWN = typer.Option("--markdown", help="print the artifact's markdown instead of a table")

KIND_STYLES = {
    "event": "cyan",
    "enrolled": "green",
    "move": "blue",
    "message": "magenta",
    "provider": "magenta",
    "action": "yellow",
    "consent": "red",
    "now": "bold",
}


def customer(
    ident: Annotated[str, typer.Argument(metavar="ID|EMAIL|PHONE", help="our id, store id, …")],
    database: DatabaseUrl = None,
    artifact: Annotated[bool, ARTIFACT] = False,
    markdown: Annotated[bool, MARKDOWN] = False,
) -> None:
    """A customer's story: everything that happened to them, in order."""
    from journeykit.reports.story import customer_story

    _tell(customer_story, ident, database, artifact=artifact, markdown=markdown)


def order(
    number: Annotated[str, typer.Argument(help="the order number, e.g. 5001 or #5001")],
    database: DatabaseUrl = None,
    artifact: Annotated[bool, ARTIFACT] = False,
    markdown: Annotated[bool, MARKDOWN] = False,
) -> None:
    """An order's story: its events, journeys, messages and the customer's choices."""
    from journeykit.reports.story import order_story

    _tell(order_story, number, database, artifact=artifact, markdown=markdown)


def _tell(read: Callable[[Any, str], Any], ident: str, database: str | None, **show: bool) -> None:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from journeykit.foundation.db import make_engine
    from journeykit.foundation.settings import get_settings
    from journeykit.reports.story import StoryNotFound

    url = database or get_settings().database.url
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            story = read(session, ident)
    except StoryNotFound as exc:
        fail(str(exc), "`journeys customer` takes our id, the store's id, an email or a phone")
    except SQLAlchemyError as exc:
        fail(
            f"cannot read {url.split('@')[-1]}: {type(exc).__name__}",
            "check --database; run `journeys db upgrade`",
        )
    finally:
        engine.dispose()
    _show(story, **show)


def _show(story: Any, *, artifact: bool, markdown: bool) -> None:
    from journeykit.reports.markdown import escape
    from journeykit.reports.story_markdown import story_markdown

    text = story_markdown(story)
    if markdown:
        typer.echo(text, nl=False)
    else:
        print_story(Console(highlight=False), story)
    if artifact:
        from journeykit.orchestration.story_artifact import publish_story

        try:
            publish_story(story.key, text, description=escape(story.title))
        except Exception as exc:  # no Prefect server: say so, the story was still told
            fail(
                f"could not publish the artifact {story.key}: {type(exc).__name__}: {exc}",
                "start a Prefect server and set PREFECT_API_URL (docs/ops.md)",
            )
        typer.echo(f"artifact: {story.key}", err=True)


def print_story(console: Console, story: Any) -> None:
    """The facts, then the timeline: three columns that fit 80 columns; long values wrap
    (or fold, for ids) instead of being cut; stored strings are Text, never markup."""
    console.print(Text(story.title, style="bold"))
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(overflow="fold")
    for name, value in story.facts:
        facts.add_row(Text(name), Text(value))
    console.print(facts)
    timeline = Table(title=Text("Timeline (UTC)"), title_justify="left", expand=False)
    timeline.add_column("when", no_wrap=True)
    timeline.add_column("kind", no_wrap=True)
    timeline.add_column("what", overflow="fold", ratio=1)
    for entry in story.entries:
        what = Text(entry.what)
        if entry.detail:
            what.append("\n" + entry.detail, style="dim")
        kind = Text(entry.kind, style=KIND_STYLES.get(entry.kind, ""))
        timeline.add_row(Text(entry.at.strftime("%Y-%m-%d %H:%M")), kind, what)
    if not story.entries:
        timeline.add_row("", "", Text("nothing recorded yet", style="dim"))
    console.print(timeline)


def register(app: typer.Typer) -> None:
    app.command("customer")(customer)
    app.command("order")(order)

"""``journeys diff OLD NEW [--database URL]``: what an edit changes, node by node. OLD and
NEW are files, journey names, or versions recorded in the database (``name@hash``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from journeykit.cli.common import err, fail

COLOURS = {"added": "green", "removed": "red", "changed": "yellow"}


def diff(
    old: Annotated[str, typer.Argument(help="file, journey name, or name@version")],
    new: Annotated[str, typer.Argument(help="file, journey name, or name@version")],
    database: Annotated[
        str | None,
        typer.Option("--database-url", help="count live enrollments at each changed node"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the diff as JSON")] = False,
    journeys_dir: Annotated[Path | None, typer.Option("--journeys", help="journeys dir")] = None,
) -> None:
    """Show what changes between two versions of a journey, node by node."""
    from journeykit.authoring.diff import add_live_counts, diff_journeys, live_counts
    from journeykit.authoring.sources import SourceError, resolve
    from journeykit.foundation.settings import get_settings
    from journeykit.language.errors import SpecErrors

    settings = get_settings()
    directory = journeys_dir or settings.journeys_dir
    try:
        before = resolve(old, directory, database or settings.database.url)
        after = resolve(new, directory, database or settings.database.url)
    except SourceError as exc:
        fail(str(exc))
    except SpecErrors as exc:
        err.print(str(exc))
        fail("a journey to compare has errors", "run `journeys validate` on it")
    result = diff_journeys(before.journey, after.journey)
    if database:
        try:
            counts = live_counts(database, before.journey.name)
        except Exception as exc:  # a wrong URL or an unmigrated database: one clear line
            fail(f"cannot read enrollments from {database}: {exc}", "run `journeys db upgrade`")
        add_live_counts(result, counts)
    if as_json:
        typer.echo(json.dumps(_as_dict(result, before.label, after.label), indent=2, default=str))
        return
    _print(result, before.label, after.label)


def _as_dict(result: Any, old: str, new: str) -> dict[str, Any]:
    return {
        "journey": result.journey,
        "old": old,
        "new": new,
        "journey_fields": [vars(c) for c in result.journey_fields],
        "nodes": [
            {
                "node": c.node,
                "kind": c.kind,
                "fields": [vars(f) for f in c.fields],
                **({"live": c.live} if result.counted else {}),
            }
            for c in result.nodes
        ],
    }


def _short(value: Any) -> str:
    text = "—" if value is None else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _print(result: Any, old: str, new: str) -> None:
    console = Console(highlight=False, soft_wrap=True)
    console.print(f"[bold]{result.journey}[/bold]: {old} → {new}")
    if result.empty:
        console.print("no changes")
        return
    for change in result.journey_fields:
        console.print(f"  journey {change.field}: {_short(change.old)} → {_short(change.new)}")
    table = Table(title_justify="left", show_lines=False)
    for column in ("node", "change", "field", "old", "new"):
        table.add_column(column)
    if result.counted:
        table.add_column("live here", justify="right")
    for change in result.nodes:
        colour = COLOURS[change.kind]
        rows = change.fields or [None]
        for index, item in enumerate(rows):
            cells = [
                change.node if index == 0 else "",
                f"[{colour}]{change.kind}[/{colour}]" if index == 0 else "",
                item.field if item else "",
                _short(item.old) if item else "",
                _short(item.new) if item else "",
            ]
            if result.counted:
                live = change.live if index == 0 else ""
                cells.append(f"[bold red]{live}[/bold red]" if live else str(live))
            table.add_row(*cells)
    console.print(table)
    if result.counted and any(c.live for c in result.nodes):
        console.print(
            "Enrollments finish on the version they started; to move them to the new one run "
            "`journeys move JOURNEY --to VERSION --dry-run` first."
        )


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)

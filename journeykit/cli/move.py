"""``journeys move JOURNEY --to VERSION [--map OLD=NEW ...] [--dry-run]``: move the
journey's waiting enrollments to another version, reporting the impact first. VERSION is a
hash (or unique prefix) recorded in the database, or ``current`` for the journey file as it
is now. Without a move enrollments finish on the version they started."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from journeykit.cli.common import DatabaseUrl, fail


def move(
    journey: Annotated[str, typer.Argument(help="journey name")],
    to: Annotated[str, typer.Option("--to", help="version hash (or prefix), or 'current'")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="OLD_NODE=NEW_NODE (repeat; default: the same id)"),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only report the impact")] = False,
    database: DatabaseUrl = None,
    journeys_dir: Annotated[Path | None, typer.Option("--journeys", help="journeys dir")] = None,
) -> None:
    """Move waiting enrollments of JOURNEY to another version, node by node."""
    from journeykit.cli.common import load_book
    from journeykit.engine.version_moves import (
        MigrationError,
        Target,
        apply,
        parse_mapping,
        plan,
        target_version,
    )
    from journeykit.foundation.db import make_engine
    from journeykit.foundation.settings import get_settings
    from journeykit.timing.clock import SystemClock

    settings = get_settings()
    engine = make_engine(database or settings.database.url)
    now = SystemClock().now()
    console = Console(highlight=False)
    try:
        pairs = parse_mapping(mapping or [])
        if to == "current":
            book = load_book(journeys_dir or settings.journeys_dir)
            if journey not in book.current:
                fail(f"no journey named {journey!r}", f"known journeys: {', '.join(book.names())}")
            _journey, version, source = book.current[journey]
            target = Target(version, _journey, source)
        else:
            target = target_version(engine, journey, to)
        migration = plan(engine, journey, target, pairs, now)
        _report(console, migration)
        if migration.unmapped:
            fail(
                "some enrollments stand at nodes the target version does not have; "
                "nothing was moved",
                "map each one with --map OLD_NODE=NEW_NODE (a node of the target version)",
            )
        if dry_run or not migration.total:
            console.print("dry run: nothing was changed" if dry_run else "nothing to move")
            return
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("moving", total=migration.total)
            moved = apply(engine, migration, target, now, lambda n: progress.advance(task, n))
        console.print(f"[green]moved {moved} enrollments[/green] to {target.version}")
    except MigrationError as exc:
        fail(str(exc))
    except typer.Exit:
        raise
    except Exception as exc:  # a wrong URL or an unmigrated database: one clear line
        fail(
            f"the move failed, nothing was changed: {exc}", "check --database-url and run it again"
        )
    finally:
        engine.dispose()


def _report(console: Console, migration: Any) -> None:
    table = Table(title=f"{migration.journey} → {migration.target}", title_justify="left")
    for column in ("from version", "from node", "to node", "enrollments"):
        table.add_column(column, justify="right" if column == "enrollments" else "left")
    for key, ids in sorted(
        migration.moves.items(), key=lambda kv: (kv[0].from_node, kv[0].from_version)
    ):
        renamed = key.to_node != key.from_node
        to_node = f"[cyan]{key.to_node}[/cyan]" if renamed else key.to_node
        table.add_row(key.from_version, key.from_node, to_node, str(len(ids)))
    for (version, node), count in sorted(migration.unmapped.items()):
        table.add_row(version, node, "[red]unmapped[/red]", f"[red]{count}[/red]")
    console.print(table)
    if migration.busy:
        console.print(
            f"[yellow]{migration.busy} enrollments are being advanced right now and were left "
            "alone; run the move again afterwards[/yellow]"
        )


def register(app: typer.Typer) -> None:
    app.command("move")(move)

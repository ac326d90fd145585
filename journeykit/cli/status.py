"""``journeys status [JOURNEY]``: enrollments per node and status with the next due time,
the outbox backlog and provider errors in the last hour, as colour tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from journeykit.cli.common import DatabaseUrl, fail

STATUS_COLOURS = {
    "active": "cyan",
    "waiting": "blue",
    "completed": "green",
    "exited": "magenta",
    "failed": "bold red",
}
STATUSES = tuple(STATUS_COLOURS)


def status(
    journey: Annotated[str | None, typer.Argument(help="only this journey")] = None,
    database: DatabaseUrl = None,
) -> None:
    """Where enrollments stand, what is due next, what waits to be sent, what failed."""
    from journeykit.foundation.db import ensure_schema, make_engine
    from journeykit.foundation.settings import get_settings
    from journeykit.reports.status import read_status
    from journeykit.timing.clock import SystemClock

    url = database or get_settings().database.url
    engine = make_engine(url)
    now = SystemClock().now()
    try:
        settings = get_settings()
        ensure_schema(url, auto_upgrade=not database and settings.environment != "production")
        state = read_status(engine, now, journey)
        inbox = read_inbox(engine)
    except Exception as exc:  # a wrong URL or an unmigrated database: one clear line
        fail(
            f"cannot read {url}: {type(exc).__name__}",
            "check --database-url; run `journeys db upgrade`",
        )
    finally:
        engine.dispose()
    console = Console(highlight=False)
    _enrollments(console, state.nodes, now, journey)
    _backlog(console, state.backlog, now)
    _errors(console, state.errors)
    _inbox(console, *inbox)
    _withdrawn(console, state.withdrawn)


def when(at: datetime | None, now: datetime) -> str:
    """``in 3h 20m`` / ``overdue 5m`` (red) / ``—``."""
    from journeykit.language.durations import format_duration
    from journeykit.timing.clock import aware

    if at is None:
        return "—"
    delta = aware(at) - now
    if delta.total_seconds() <= 0:
        return f"[red]overdue {format_duration(-delta).split(' ')[0]}[/red]"
    return "in " + " ".join(format_duration(delta).split(" ")[:2])


def _enrollments(console: Console, nodes: list[Any], now: datetime, journey: str | None) -> None:
    table = Table(title="Enrollments" + (f" · {journey}" if journey else ""), title_justify="left")
    table.add_column("journey")
    table.add_column("node")
    for name in STATUSES:
        table.add_column(f"[{STATUS_COLOURS[name]}]{name}", justify="right")
    table.add_column("next due")
    previous = None
    for row in nodes:
        cells = [row.journey if row.journey != previous else "", row.node]
        cells += [
            f"[{STATUS_COLOURS[s]}]{row.counts[s]}[/]" if row.counts.get(s) else "[dim]·[/dim]"
            for s in STATUSES
        ]
        cells.append(when(row.next_due, now) if row.next_due else "")
        table.add_row(*cells)
        previous = row.journey
    if not nodes:
        table.add_row("[dim]no enrollments yet[/dim]", *[""] * (len(STATUSES) + 2))
    console.print(table)


def _backlog(console: Console, backlog: list[Any], now: datetime) -> None:
    table = Table(title="Outbox backlog", title_justify="left")
    for column in ("channel", "status", "messages", "due now", "oldest due"):
        table.add_column(column, justify="right" if column in ("messages", "due now") else "left")
    for row in backlog:
        overdue = f"[yellow]{row.overdue}[/yellow]" if row.overdue else "0"
        table.add_row(row.channel, row.status, str(row.count), overdue, when(row.oldest_due, now))
    if not backlog:
        table.add_row("[green]empty[/green]", "", "", "", "")
    console.print(table)


def _errors(console: Console, errors: list[Any]) -> None:
    table = Table(title="Provider errors in the last hour", title_justify="left")
    for column in ("channel", "code", "messages", "last error"):
        table.add_column(column, justify="right" if column == "messages" else "left")
    for row in errors:
        table.add_row(
            Text(row.channel), Text(str(row.code), style="red"), str(row.count), Text(row.example)
        )
    if not errors:
        table.add_row("[green]none[/green]", "", "", "")
    console.print(table)


def read_inbox(engine: Any) -> tuple[dict[str, int], list[Any]]:
    """(inbox events per status, the events that failed for good)."""
    from sqlmodel import Session

    from journeykit.service.event_inbox import failed_events, inbox_counts

    with Session(engine) as session:
        return inbox_counts(session), failed_events(session, limit=20)


def _inbox(console: Console, counts: dict[str, int], failed: list[Any]) -> None:
    """Store events not applied yet, and those that failed for good (replay them)."""
    waiting = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("pending", "waiting", "failed"))
    table = Table(title=f"Event inbox · {waiting}", title_justify="left")
    for column in ("id", "event", "subject", "tries", "last error"):
        table.add_column(column, overflow="fold")
    for row in failed:
        error = row.last_error or ""
        table.add_row(str(row.id), row.type, row.subject, str(row.attempts), error)
    if failed:
        table.caption = "replay one with: journeys events replay ID"
    else:
        table.add_row("[green]no failed events[/green]", "", "", "", "")
    console.print(table)


def _withdrawn(console: Console, withdrawn: list[Any]) -> None:
    if not withdrawn:
        return
    table = Table(title="Withdrawn (no longer true when claimed)", title_justify="left")
    for column in ("journey", "node", "messages", "reason"):
        table.add_column(column, justify="right" if column == "messages" else "left")
    for row in withdrawn:
        table.add_row(row.journey, row.node, str(row.count), row.reason)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("status")(status)

"""``journeys status [JOURNEY]``: enrollments per node and status with the next due time,
the outbox backlog and provider errors in the last hour, as colour tables that fit 80
columns (long names wrap, nothing is cut; stored strings are Text, never markup)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich import box
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
    print_status(Console(highlight=False), state, now, journey, inbox)


def print_status(
    console: Console,
    state: Any,
    now: datetime,
    journey: str | None,
    inbox: tuple[dict[str, int], list[Any]] | None = None,
) -> None:
    _enrollments(console, state.nodes, now, journey)
    _backlog(console, state.backlog, now)
    _errors(console, state.errors)
    if inbox is not None:
        _inbox(console, *inbox)
    _withdrawn(console, state.withdrawn)


def _table(title: str) -> Table:
    """A compact table: one space between columns, a rule under the header, no edges."""
    return Table(
        title=Text(title),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0),
        show_edge=False,
        pad_edge=False,
    )


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
    """Each journey's name on a row of its own, its nodes indented under it: the name column
    is as wide as 80 columns allow, and a longer name wraps instead of being cut."""
    table = _table("Enrollments" + (f" · {journey}" if journey else ""))
    table.add_column("journey / node", overflow="fold")
    for name in STATUSES:
        table.add_column(Text(name, style=STATUS_COLOURS[name]), justify="right", no_wrap=True)
    table.add_column("next due", no_wrap=True)
    previous = None
    for row in nodes:
        if row.journey != previous:
            table.add_row(Text(row.journey, style="bold"), *[""] * (len(STATUSES) + 1))
            previous = row.journey
        cells: list[Any] = [Text("  " + row.node)]
        cells += [
            Text(str(row.counts[s]), style=STATUS_COLOURS[s])
            if row.counts.get(s)
            else Text("·", style="dim")
            for s in STATUSES
        ]
        cells.append(when(row.next_due, now) if row.next_due else "")
        table.add_row(*cells)
    if not nodes:
        table.add_row(Text("no enrollments yet", style="dim"), *[""] * (len(STATUSES) + 1))
    console.print(table)


def _backlog(console: Console, backlog: list[Any], now: datetime) -> None:
    table = _table("Outbox backlog")
    for column in ("channel", "status", "messages", "due now", "oldest due"):
        right = column in ("messages", "due now")
        table.add_column(column, justify="right" if right else "left", no_wrap=True)
    for row in backlog:
        overdue = Text(str(row.overdue), style="yellow" if row.overdue else "")
        table.add_row(
            Text(row.channel), Text(row.status), str(row.count), overdue, when(row.oldest_due, now)
        )
    if not backlog:
        table.add_row(Text("empty", style="green"), "", "", "", "")
    console.print(table)


def _errors(console: Console, errors: list[Any]) -> None:
    table = _table("Provider errors in the last hour")
    table.add_column("channel", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("messages", justify="right", no_wrap=True)
    table.add_column("last error", overflow="fold")
    for row in errors:
        table.add_row(
            Text(row.channel), Text(str(row.code), style="red"), str(row.count), Text(row.example)
        )
    if not errors:
        table.add_row(Text("none", style="green"), "", "", "")
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
    table = _table(f"Event inbox · {waiting}")
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("event", no_wrap=True)
    table.add_column("subject", overflow="fold")
    table.add_column("tries", justify="right", no_wrap=True)
    table.add_column("last error", overflow="fold")
    for row in failed:  # stored strings are Text, never markup
        error = Text(row.last_error or "")
        table.add_row(str(row.id), Text(row.type), Text(row.subject), str(row.attempts), error)
    if failed:
        table.caption = "replay one with: journeys events replay ID"
    else:
        table.add_row(Text("no failed events", style="green"), "", "", "", "")
    console.print(table)


def _withdrawn(console: Console, withdrawn: list[Any]) -> None:
    if not withdrawn:
        return
    table = _table("Withdrawn (no longer true when claimed)")
    table.add_column("journey", overflow="fold")
    table.add_column("node", overflow="fold")
    table.add_column("messages", justify="right", no_wrap=True)
    table.add_column("reason", overflow="fold")
    for row in withdrawn:
        table.add_row(Text(row.journey), Text(row.node), str(row.count), Text(row.reason))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("status")(status)

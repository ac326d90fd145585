"""``journeys emit EVENT --data JSON``: store a domain event in the inbox (once per
``--key``; without one, a new event), apply its subject's pending events in order, and
advance what they touched (in a Prefect flow run, or here with ``--no-run``).
``journeys events list`` shows the inbox events that wait or failed;
``journeys events replay ID`` puts a failed one back in line and applies it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from journeykit.cli.common import fail, parse_json_arg
from journeykit.engine.advance import advance, claim_due
from journeykit.foundation.models import InboxEvent
from journeykit.language.event_types import EVENT_TYPES, parse_event
from journeykit.service.event_inbox import Applied, replay
from journeykit.service.events import record_event
from journeykit.service.runtime_factory import current_runtime

events_app = typer.Typer(help="The event inbox: what waits, what failed, replay.")
STATUSES = ("failed", "pending", "waiting", "applying", "applied")


def register(app: typer.Typer) -> None:
    app.command()(emit)
    app.add_typer(events_app, name="events")


def emit(
    event: Annotated[str, typer.Argument(help="event type, e.g. order.placed")],
    data: Annotated[str, typer.Option("--data", "-d", help="JSON fields, or @file.json")] = "{}",
    key: Annotated[
        str | None, typer.Option("--key", help="idempotency key (default: a new event)")
    ] = None,
    run: Annotated[
        bool, typer.Option("--run/--no-run", help="advance in a Prefect flow run")
    ] = True,
) -> None:
    """Send a domain event to Journeykit."""
    if event not in EVENT_TYPES:
        fail(f"unknown event type {event!r}", f"one of: {', '.join(EVENT_TYPES)}")
    payload = parse_json_arg(data, what="--data")
    if not isinstance(payload, dict):
        fail("--data must be a JSON object")
    payload = {"type": event, **payload}
    try:
        result = emit_event(payload, key=key, run=run)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != event) or 'event'}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"invalid {event}: {problems}")
    except LookupError as exc:
        fail(str(exc))
    Console().print(result)


def emit_event(payload: dict[str, Any], *, key: str | None, run: bool) -> dict[str, Any]:
    """Validate first (so a bad payload writes nothing), then store and apply it in a flow
    run or here."""
    parse_event(payload)
    stored_key = key or f"cli:new:{uuid.uuid4()}"
    if run:
        # Prefect loads only when a flow run is asked for (not for every `journeys` command)
        from journeykit.orchestration.flows import handle_event
        from journeykit.orchestration.run_outcome import outcome_counts, run_in_process

        # the counts also when a send failed (the run ends Failed sends; status shows why)
        state = run_in_process(handle_event(event=payload, key=stored_key, return_state=True))
        return outcome_counts(state)
    runtime = current_runtime()
    accepted, applied = record_event(runtime, payload=payload, key=stored_key, source="cli")
    return {"duplicate": accepted.duplicate, "inbox_id": accepted.inbox_id} | _moved(applied)


def _moved(applied: Applied) -> dict[str, Any]:
    runtime = current_runtime()
    if applied.touched:
        advance(runtime, claim_due(runtime, limit=len(applied.touched), ids=applied.touched))
    return {
        "applied": len(applied.applied),
        "waiting": {str(k): v for k, v in applied.waiting.items()},
        "failed": {str(k): v for k, v in applied.failed.items()},
        "enrolled": len(applied.enrolled),
        "woken": len(applied.woken),
        "exited": len(applied.exited),
    }


@events_app.command("list")
def list_events(
    status: Annotated[str, typer.Option("--status", help=" | ".join(STATUSES))] = "failed",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 50,
) -> None:
    """Inbox events with this status, newest first."""
    if status not in STATUSES:
        fail(f"--status {status!r}: one of {', '.join(STATUSES)}")
    with Session(current_runtime().engine) as session:
        rows = session.exec(
            select(InboxEvent)
            .where(InboxEvent.status == status)
            .order_by(col(InboxEvent.id).desc())
            .limit(limit)
        ).all()
    table = Table("id", "type", "subject", "tries", "last error")
    for row in rows:
        table.add_row(str(row.id), row.type, row.subject, str(row.attempts), row.last_error or "")
    Console().print(table if rows else f"no {status} events")


@events_app.command("replay")
def replay_event(
    inbox_id: Annotated[int, typer.Argument(help="the inbox id (journeys events list)")],
) -> None:
    """Put a failed event back in line and apply its subject's events now."""
    try:
        applied = replay(current_runtime(), inbox_id)
    except LookupError as exc:
        fail(str(exc))
    Console().print(_moved(applied))

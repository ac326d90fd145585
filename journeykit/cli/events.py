"""``journeys emit EVENT --data JSON``: record a domain event (once per ``--key``), enroll
and wake what it touches, and advance those at once in a Prefect flow run."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from journeykit.cli.common import fail, parse_json_arg


def register(app: typer.Typer) -> None:
    @app.command()
    def emit(
        event: Annotated[str, typer.Argument(help="event type, e.g. order.placed")],
        data: Annotated[
            str, typer.Option("--data", "-d", help="JSON fields, or @file.json")
        ] = "{}",
        key: Annotated[
            str | None, typer.Option("--key", help="idempotency key (default: payload hash)")
        ] = None,
        run: Annotated[
            bool, typer.Option("--run/--no-run", help="advance touched enrollments now")
        ] = True,
    ) -> None:
        """Send a domain event to Journeykit."""
        from journeykit.language.events import EVENT_TYPES

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


def emit_event(payload: dict, *, key: str | None, run: bool) -> dict[str, Any]:
    """Validate first (so a bad payload writes nothing), then ingest in a flow run or locally."""
    import asyncio

    from journeykit.language.events import parse_event

    parse_event(payload)
    if run:
        from journeykit.orchestration.flows import handle_event

        return asyncio.run(handle_event(event=payload, key=key))
    from journeykit.foundation.db import session_scope
    from journeykit.service.runtime_factory import current_runtime

    runtime = current_runtime()
    with session_scope(runtime.engine) as session:
        from journeykit.engine.ingest import ingest_event

        ingested = ingest_event(
            session,
            book=runtime.book,
            now=runtime.clock.now(),
            payload=payload,
            key=key,
            source="cli",
            registry=runtime.registry,
        )
    return {
        "duplicate": ingested.duplicate,
        "enrolled": len(ingested.routed.enrolled),
        "woken": len(ingested.routed.woken),
        "exited": len(ingested.routed.exited),
    }

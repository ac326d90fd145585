"""``journeys worker``: the long-lived event worker (orchestration/event_worker.py). With
``JOURNEYKIT_WEB__EVENT_DELIVERY=worker`` the web app only stores events; this process applies
them as they arrive, each batch an in-process Prefect flow run, until SIGTERM or SIGINT."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from journeykit.cli.common import fail


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        poll: Annotated[
            float, typer.Option("--poll-seconds", min=0.05, max=60, help="inbox poll interval")
        ] = 0.2,
        subjects: Annotated[
            int, typer.Option("--max-subjects", min=1, max=500, help="subjects per batch run")
        ] = 20,
        concurrency: Annotated[
            int, typer.Option("--concurrency", min=1, max=16, help="batches in hand at once")
        ] = 2,
    ) -> None:
        """Apply store events as they arrive (web delivery `worker`): advance what they
        touched and send it, one in-process Prefect flow run per batch."""
        # before Prefect loads: a call to a Prefect server that went away fails at once
        # instead of retrying for as long as it is down (the batch then runs without a
        # flow run, events keep flowing); PREFECT_CLIENT_MAX_RETRIES set by ops wins
        os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "0")
        from journeykit.foundation.db import ensure_schema
        from journeykit.foundation.heap import startup_heap_frozen
        from journeykit.foundation.settings import get_settings
        from journeykit.orchestration.event_worker import serve_events
        from journeykit.service.runtime_factory import build_runtime, worker_owner

        settings = get_settings()
        try:
            ensure_schema(settings.database.url, auto_upgrade=settings.environment != "production")
            runtime = build_runtime(settings, owner=worker_owner())
        except Exception as exc:  # a clear line, never a traceback
            fail(f"cannot start the event worker: {exc}", "check JOURNEYKIT_DATABASE__URL")

        def started() -> None:
            typer.echo(
                f"journeys worker {runtime.owner}: polling the event inbox every {poll:g} s"
                " (SIGTERM or Ctrl-C stops it after the batch in hand)",
            )

        with startup_heap_frozen():  # the imports and the runtime: out of the collector's sight
            batches = serve_events(
                runtime,
                poll_seconds=poll,
                max_subjects=subjects,
                concurrency=concurrency,
                on_start=started,
            )
        typer.echo(f"journeys worker {runtime.owner}: stopped after {batches} batches")

"""``journeys serve``: the web app (store events, webhooks, customer pages) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from journeykit.cli.common import fail

WORKER_STARTUP_SECONDS = 60


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option("--host", help="interface to listen on")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", min=1, max=65535, help="port to listen on")
        ] = 8000,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                min=1,
                help="uvicorn worker processes, each with its own app and connection pool",
            ),
        ] = 1,
    ) -> None:
        """Serve store events, provider webhooks and customer pages over HTTP. With
        ``--workers N`` uvicorn runs N processes on the port, each building the app from
        the environment (``JOURNEYKIT_*``); size ``database.pool_size`` for N of them."""
        import uvicorn

        from journeykit.foundation.db import upgrade
        from journeykit.foundation.settings import get_settings
        from journeykit.web.app import create_app, freeze_startup_objects

        settings = get_settings()
        try:
            upgrade(settings.database.url)
            web = create_app(settings)
        except Exception as exc:  # a clear line, never a traceback
            fail(f"cannot start the web app: {exc}", "check JOURNEYKIT_DATABASE__URL and journeys")
        typer.echo(
            f"Journeykit web on http://{host}:{port} (public: {settings.web.public_base_url})"
        )
        if workers == 1:
            freeze_startup_objects()
            uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=True)
            return
        del web  # checked above; each worker process builds its own
        uvicorn.run(
            "journeykit.web.app:app_from_environment",
            factory=True,
            workers=workers,
            # a worker builds the app (journeys, registry, templates) before it answers the
            # supervisor's ping: uvicorn's 5 s default killed and restarted it over and over
            # on a loaded machine
            timeout_worker_healthcheck=WORKER_STARTUP_SECONDS,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=True,
        )

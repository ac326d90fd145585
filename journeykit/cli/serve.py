"""``journeys serve``: the web app (store events, webhooks, customer pages) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from journeykit.cli.common import fail


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: Annotated[str, typer.Option("--host", help="interface to listen on")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", min=1, max=65535, help="port to listen on")
        ] = 8000,
    ) -> None:
        """Serve store events, provider webhooks and customer pages over HTTP."""
        import uvicorn

        from journeykit.foundation.db import upgrade
        from journeykit.foundation.settings import get_settings
        from journeykit.web.app import create_app

        settings = get_settings()
        try:
            upgrade(settings.database.url)
            web = create_app(settings)
        except Exception as exc:  # a clear line, never a traceback
            fail(f"cannot start the web app: {exc}", "check JOURNEYKIT_DATABASE__URL and journeys")
        typer.echo(
            f"Journeykit web on http://{host}:{port} (public: {settings.web.public_base_url})"
        )
        uvicorn.run(web, host=host, port=port, log_level="info", proxy_headers=True)

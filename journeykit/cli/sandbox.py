"""``journeys sandbox``: run the local Twilio/SendGrid look-alike until Ctrl-C."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``sandbox`` command to the ``journeys`` app."""
    app.command("sandbox")(sandbox)


def sandbox(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8025,
    inbox_file: Annotated[
        Path | None,
        typer.Option(
            "--inbox-file",
            help="SQLite file for accepted messages (default: a temporary one, gone on exit).",
        ),
    ] = None,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Delay before every answer.")
    ] = 0.0,
    fault_429: Annotated[
        float, typer.Option("--fault-429", help="Share of sends answered 429.")
    ] = 0.0,
    fault_500: Annotated[
        float, typer.Option("--fault-500", help="Share of sends answered 500.")
    ] = 0.0,
    fault_timeout: Annotated[
        float,
        typer.Option("--fault-timeout", help="Share of sends accepted but answered too late."),
    ] = 0.0,
    timeout_delay_s: Annotated[
        float, typer.Option(help="How late a 'timeout' answer comes.")
    ] = 30.0,
    seed: Annotated[int | None, typer.Option(help="Seed for the fault draws.")] = None,
    sendgrid_event_url: Annotated[
        str | None, typer.Option(help="Where to POST signed SendGrid Event Webhook batches.")
    ] = None,
) -> None:
    """Serve the provider sandbox: Twilio Messages, SendGrid Mail Send, and an inbox page."""
    from journeykit.foundation.settings import get_settings
    from journeykit.sandbox.faults import FaultConfig
    from journeykit.sandbox.server import SandboxServer
    from journeykit.sandbox.store import MessageStore

    faults = FaultConfig(
        latency_ms=latency_ms,
        rate_429=fault_429,
        rate_500=fault_500,
        rate_timeout=fault_timeout,
        timeout_delay_s=timeout_delay_s,
        seed=seed,
    )
    store = MessageStore(inbox_file) if inbox_file is not None else MessageStore()
    server = SandboxServer.from_settings(
        get_settings(),
        store=store,
        faults=faults,
        host=host,
        port=port,
        sendgrid_event_url=sendgrid_event_url,
        log_level="info",
    )

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)  # also when started in the background
    signal.signal(signal.SIGTERM, interrupt)
    with server:
        url = server.url
        typer.echo(f"Journeykit provider sandbox on {url}")
        typer.echo(f"  inbox:      {url}/")
        typer.echo(f"  Twilio:     {url}/2010-04-01/Accounts/{server.account_sid}/Messages.json")
        typer.echo(f"  SendGrid:   {url}/v3/mail/send")
        typer.echo(f"  faults:     {url}/_sandbox/faults (GET/POST JSON/DELETE)")
        typer.echo(f"  event key:  {url}/_sandbox/sendgrid-public-key")
        typer.echo("Ctrl-C to stop.")
        with contextlib.suppress(KeyboardInterrupt):
            server.wait()

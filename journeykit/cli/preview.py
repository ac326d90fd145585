"""``journeys preview JOURNEY [--node ID] [--locale L] [--customer FILE] [--out DIR]``:
every message of a journey rendered with sample (or given) data. Emails become HTML files
(+ their text part); SMS are printed with their segment count and encoding."""

from __future__ import annotations

import tempfile
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from journeykit.cli.common import err, fail


def preview(
    journey: Annotated[str, typer.Argument(help="journey name or file")],
    node: Annotated[str | None, typer.Option("--node", help="only this send node")] = None,
    locale: Annotated[
        str | None, typer.Option("--locale", help="render in this locale, e.g. ko or ja")
    ] = None,
    customer: Annotated[
        Path | None,
        typer.Option(
            "--customer", help="YAML/JSON with customer, subject, data (a scenario works)"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="directory for the email files (default: temp)")
    ] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="open the emails")] = False,
    journeys_dir: Annotated[Path | None, typer.Option("--journeys", help="journeys dir")] = None,
) -> None:
    """Render a journey's messages as the customer would get them."""
    from journeykit.authoring.preview import render_messages, send_nodes, write_emails
    from journeykit.authoring.sample import PreviewInput, SampleError, read_customer_file
    from journeykit.authoring.sources import SourceError, resolve
    from journeykit.foundation.settings import get_settings
    from journeykit.language.errors import SpecErrors

    settings = get_settings()
    try:
        loaded = resolve(journey, journeys_dir or settings.journeys_dir)
        given = read_customer_file(customer) if customer else PreviewInput()
    except (SourceError, SampleError) as exc:
        fail(str(exc))
    except SpecErrors as exc:
        err.print(str(exc))
        fail(f"{journey} has errors", "run `journeys validate` for details")
    try:
        send_nodes(loaded.journey, node)
    except KeyError:
        names = ", ".join(n.id for n in send_nodes(loaded.journey)) or "none"
        fail(f"{loaded.journey.name} has no send node {node!r}", f"its send nodes: {names}")
    messages = render_messages(loaded.journey, settings, given, only=node, locale=locale)
    has_email = any(m.channel == "email" and not m.error for m in messages)
    directory = out or Path(".")
    if has_email:
        directory = out or Path(tempfile.mkdtemp(prefix=f"jk-preview-{loaded.journey.name}-"))
        write_emails(messages, directory)
    console = Console(highlight=False, soft_wrap=True)
    limit = settings.templates.sms_warn_segments
    for message in messages:
        title = f"[bold]{message.node}[/bold] · {message.channel} · {message.template}"
        if message.error:
            console.print(title)
            console.print(Text.assemble("  ", ("error:", "red"), " ", str(message.error)))
            continue
        content = message.content
        if message.channel == "email":
            console.print(f"{title} · {content['locale']}")
            console.print(Text(f"  subject: {content['subject']}"))
            if content.get("preheader"):
                console.print(Text(f"  preheader: {content['preheader']}"))
            console.print(f"  html: {message.html_path}\n  text: {message.text_path}")
            if open_browser and message.html_path:
                webbrowser.open(message.html_path.resolve().as_uri())
        else:
            colour = "yellow" if message.segments > limit else "green"
            console.print(
                f"{title} · {content['locale']} · [{colour}]{message.segments} segment"
                f"{'s' * (message.segments != 1)}, {message.encoding}[/{colour}]"
            )
            for line in str(content["body"]).splitlines():
                console.print(f"  │ {line}", markup=False)
            if message.segments > limit:
                console.print(
                    f"  [yellow]warning:[/yellow] {message.segments} segments is more than "
                    f"{limit} (JOURNEYKIT_TEMPLATES__SMS_WARN_SEGMENTS): each segment is billed; "
                    "shorten it"
                    + (" or avoid characters outside GSM-7" if message.encoding == "UCS-2" else "")
                )
    failed = sum(1 for m in messages if m.error)
    emails = sum(1 for m in messages if m.html_path)
    where = f", {emails} emails written to {directory}" if emails else ""
    console.print(f"{len(messages)} message{'s' * (len(messages) != 1)} rendered{where}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("preview")(preview)

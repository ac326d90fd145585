"""``journeys graph JOURNEY [--format mermaid|svg|png] [--out FILE]``: the journey as a
diagram; ``journeys graph --docs docs/graphs.md [--check]`` writes (or checks) the page with
every shipped journey's diagram."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from journeykit.cli.common import err, fail


class GraphFormat(StrEnum):
    mermaid = "mermaid"
    svg = "svg"
    png = "png"


def graph(
    journey: Annotated[
        str | None, typer.Argument(help="journey name or file (omit with --docs)")
    ] = None,
    fmt: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="mermaid (text), svg or png")
    ] = GraphFormat.mermaid,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="write to this file")] = None,
    docs: Annotated[
        Path | None, typer.Option("--docs", help="write every journey's diagram to this page")
    ] = None,
    check: Annotated[bool, typer.Option("--check", help="with --docs: only check it")] = False,
    journeys_dir: Annotated[Path | None, typer.Option("--journeys", help="journeys dir")] = None,
) -> None:
    """Draw a journey: nodes, waits with durations, branches with conditions, exits."""
    from journeykit.authoring.graph import mermaid
    from journeykit.authoring.graph_image import CannotRender, render
    from journeykit.authoring.sources import SourceError, resolve
    from journeykit.foundation.settings import get_settings
    from journeykit.language.errors import SpecErrors

    directory = journeys_dir or get_settings().journeys_dir
    if docs is not None:
        _docs(docs, directory, check)
        return
    if journey is None:
        fail("name a journey (or a file)", "e.g. `journeys graph delay_apology`")
    try:
        loaded = resolve(journey, directory)
    except SourceError as exc:
        fail(str(exc))
    except SpecErrors as exc:
        err.print(str(exc))
        fail(f"{journey} has errors", "run `journeys validate` for details")
    if fmt is GraphFormat.mermaid:
        text = mermaid(loaded.journey)
        if out is None:
            typer.echo(text, nl=False)
            return
        out.write_text(text, encoding="utf-8")
    else:
        try:
            data = render(loaded.journey, fmt.value)
        except CannotRender as exc:
            fail(str(exc))
        target = out or Path(f"{loaded.journey.name}.{fmt.value}")
        target.write_bytes(data)
        out = target
    typer.echo(f"wrote {out}")


def _docs(path: Path, directory: Path, check: bool) -> None:
    from journeykit.authoring.graph import graphs_markdown
    from journeykit.cli.common import load_book

    text = graphs_markdown(load_book(directory).journeys())
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if check:
        if current == text:
            typer.echo(f"{path} is up to date")
            return
        fail(f"{path} is out of date", f"run `journeys graph --docs {path}`")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    typer.echo(f"{'unchanged:' if current == text else 'wrote'} {path}")


def register(app: typer.Typer) -> None:
    app.command("graph")(graph)

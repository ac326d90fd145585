"""``journeys simulate [JOURNEY] --scenario FILE [--json] [--html FILE]``: the real engine on
a virtual clock and a temporary database; nothing is sent. Prints the customer's timeline;
``--html`` also writes it as a page with every message rendered inline. ``--scenario DIR``
plays every scenario in the directory (of JOURNEY, if given) with a progress bar and checks
each one's ``expect`` list; ``--html DIR`` then writes one page per scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from journeykit.cli.common import fail, load_book


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        scenario: Annotated[
            Path,
            typer.Option("--scenario", "-s", help="scenario YAML file, or a directory of them"),
        ],
        journey: Annotated[
            str | None, typer.Argument(help="journey name (default: the scenario's)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="print the timeline as JSON")] = False,
        journeys_dir: Annotated[
            Path | None, typer.Option("--journeys", help="journeys directory")
        ] = None,
        html: Annotated[
            Path | None, typer.Option("--html", help="also write the timeline as an HTML page")
        ] = None,
    ) -> None:
        """Play a scenario through a journey and print what the customer receives, when."""
        from journeykit.authoring.simulate.runner import simulate as run
        from journeykit.authoring.simulate.scenario import ScenarioError, load_scenario
        from journeykit.foundation.settings import get_settings

        if scenario.is_dir():
            _simulate_many(scenario, journey, journeys_dir, html)
            return
        try:
            loaded = load_scenario(scenario)
        except ScenarioError as exc:
            fail(str(exc), "see docs/journeys.md for the scenario format")
        name = journey or loaded.journey
        if not name:
            fail(f"{scenario}: no journey named", "pass JOURNEY or set `journey:` in the scenario")
        book = load_book(journeys_dir)
        if name not in book.current:
            fail(f"no journey named {name!r}", f"known journeys: {', '.join(book.names())}")
        only = book.only(name)
        if html is None:
            result = run(loaded, only, settings=get_settings())
        else:
            result = _write_html(html, f"{name} · {scenario.name}", loaded, only)
        if as_json:
            typer.echo(json.dumps([entry.public() for entry in result.timeline], indent=2))
        else:
            _print(name, scenario, result)
        if result.errors:
            raise typer.Exit(1)


def _simulate_many(
    directory: Path, journey: str | None, journeys_dir: Path | None, html: Path | None
) -> None:
    """Every scenario in ``directory``: a progress bar, then one summary row each."""
    from rich.progress import Progress

    from journeykit.authoring.simulate.html import simulate_with_messages, timeline_html
    from journeykit.authoring.simulate.scenario import ScenarioError, load_scenario
    from journeykit.foundation.settings import get_settings

    book, settings = load_book(journeys_dir), get_settings()
    files = sorted(directory.glob("*.yaml"))
    table = Table(title=f"{directory} · {len(files)} scenarios", title_justify="left")
    for column in ("scenario", "journey", "messages", "result"):
        table.add_column(column, justify="right" if column == "messages" else "left")
    failed = 0
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("simulating", total=len(files))
        for path in files:
            progress.update(task, description=path.stem)
            try:
                loaded = load_scenario(path)
            except ScenarioError as exc:
                table.add_row(path.name, "", "", f"[red]{exc}[/red]")
                failed += 1
                progress.advance(task)
                continue
            name = loaded.journey or ""
            progress.advance(task)
            if journey and name != journey:
                continue
            if name not in book.current:
                table.add_row(path.name, name, "", f"[red]no journey named {name!r}[/red]")
                failed += 1
                continue
            result, contents = simulate_with_messages(loaded, book.only(name), settings=settings)
            if html is not None:
                html.mkdir(parents=True, exist_ok=True)
                page = timeline_html(f"{name} · {path.name}", result, contents)
                (html / f"{path.stem}.html").write_text(page, encoding="utf-8")
            problem = "; ".join(result.errors) or _mismatch(loaded.expect, result.timeline)
            failed += bool(problem)
            sends = sum(1 for e in result.timeline if e.kind == "send")
            verdict = f"[red]{problem}[/red]" if problem else "[green]as expected[/green]"
            table.add_row(path.name, name, str(sends), verdict)
    Console(soft_wrap=True).print(table)
    if html is not None:
        Console(stderr=True).print(f"pages written to {html}")
    if failed:
        raise typer.Exit(1)


def _mismatch(expected: list[dict[str, Any]] | None, timeline: list[Any]) -> str:
    """The first difference between a scenario's ``expect`` list and the timeline, or ''."""
    if expected is None:
        return ""
    actual = [entry.public() for entry in timeline]
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        wrong = [k for k, v in want.items() if got.get(k) != v]
        if wrong:
            return f"entry {index}: {', '.join(f'{k} {got.get(k)!r} ≠ {want[k]!r}' for k in wrong)}"
    if len(expected) != len(actual):
        return f"expected {len(expected)} entries, got {len(actual)}"
    return ""


def _write_html(path: Path, title: str, scenario: object, book: object) -> Any:
    from journeykit.authoring.simulate.html import simulate_with_messages, timeline_html
    from journeykit.foundation.settings import get_settings

    with Console(stderr=True).status(f"simulating {title}…"):
        result, contents = simulate_with_messages(
            scenario,  # type: ignore[arg-type]
            book,  # type: ignore[arg-type]
            settings=get_settings(),
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(timeline_html(title, result, contents), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror}")
    Console(stderr=True).print(f"wrote {path}")
    return result


def _print(name: str, scenario: Path, result: object) -> None:
    console = Console()
    table = Table(title=Text(f"{name} · {scenario.name}"), title_justify="left")
    for column in ("when (customer's time)", "what", "node", "channel", "template", "detail"):
        table.add_column(column)
    colours = {"send": "green", "withdrawn": "yellow", "action": "cyan", "exit": "magenta"}
    for entry in result.timeline:  # type: ignore[attr-defined]
        table.add_row(  # Text, never markup: details carry customer strings
            Text(entry.at[:16].replace("T", " ") + entry.at[19:]),
            Text(entry.kind, style=colours.get(entry.kind, "")),
            Text(entry.node),
            Text(entry.channel or ""),
            Text(entry.template or ""),
            Text(entry.detail),
        )
    console.print(table)
    for error in result.errors:  # type: ignore[attr-defined]
        console.print(f"[red]error:[/red] {error}")

"""Shared CLI plumbing: the runtime from settings, and turning errors into one clear line
(never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

err = Console(stderr=True, soft_wrap=True)  # long paths stay on one line


# One option style for every command: shared options are Annotated types, named alike.
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="database URL (default: JOURNEYKIT_DATABASE__URL)"),
]
JourneysDir = Annotated[
    Path | None, typer.Option("--journeys", help="journeys directory (default: journeys/)")
]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Print ``error: message`` (and a hint) and exit 1. Both are plain text, never rich
    markup: they often quote a stored or typed string (a SKU, a path, a review title)."""
    err.print(Text.assemble(("error:", "red"), " ", message))
    if hint:
        err.print(Text.assemble("  ", ("hint:", "dim"), " ", hint))
    raise typer.Exit(1)


def parse_json_arg(value: str, *, what: str) -> Any:
    """JSON from the argument, or from a file when it starts with ``@``."""
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"cannot read {what} file {value[1:]}: {exc.strerror}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(
            f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            'quote the JSON in single quotes, e.g. --data \'{"sku": "TEE-M", "quantity": 12}\'',
        )


def load_book(journeys_dir: Path | None = None) -> Any:
    """The journeys, or a clean exit listing their errors."""
    from journeykit.engine.book import JourneyBook
    from journeykit.foundation.settings import get_settings
    from journeykit.language.errors import SpecErrors

    directory = journeys_dir or get_settings().journeys_dir
    try:
        return JourneyBook.from_dir(directory)
    except SpecErrors as exc:
        for error in exc.errors:
            err.print(Text(error.format()))
        fail(
            f"{len(exc.errors)} error(s) in the journeys under {directory}",
            "run `journeys validate` for details",
        )

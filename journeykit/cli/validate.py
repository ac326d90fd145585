"""``journeys validate`` (check journey files and their templates) and ``journeys schema``
(write or check the editor schema). Prints compiler-style errors, never a traceback."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from journeykit.foundation.settings import get_settings
from journeykit.language.checks import expand_paths, validate_paths
from journeykit.language.errors import SpecError
from journeykit.language.event_types import event_catalog
from journeykit.language.schema import SCHEMA_PATH, schema_is_current, write_schema
from journeykit.messaging.law_check import check_law_labels
from journeykit.service.registry_loader import project_registry


class OutputFormat(StrEnum):
    text = "text"
    github = "github"


def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="journey files or directories (default: the journeys directory)"),
    ] = None,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="templates directory (default: settings)")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="warnings fail too")] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text, or github (Actions annotations)")
    ] = OutputFormat.text,
) -> None:
    """Check journey files: schema, node links, actions, events, expressions, templates
    (the registry is [tool.journeykit] in pyproject.toml). Exit 1 on errors."""
    targets = list(paths or [])
    try:
        errors, checked = _run(targets, templates)
    except Exception as exc:  # never a traceback: one error line naming what was checked
        where = ", ".join(str(p) for p in targets) or "journeys"
        errors = [SpecError(where, 0, 0, f"internal error: {type(exc).__name__}: {exc}")]
        checked = len(targets)
    for error in errors:
        typer.echo(error.format_github() if output is OutputFormat.github else _styled(error))
    error_count = sum(1 for e in errors if e.is_error)
    warning_count = len(errors) - error_count
    noun = "journey" if checked == 1 else "journeys"
    summary = (
        f"{checked} {noun} checked: {error_count} error{'s' * (error_count != 1)}, "
        f"{warning_count} warning{'s' * (warning_count != 1)}"
    )
    typer.echo(summary, err=output is OutputFormat.github)
    if error_count or (strict and warning_count):
        raise typer.Exit(1)


def schema(
    check: Annotated[
        bool, typer.Option("--check", help="only check the file is current (exit 1 if not)")
    ] = False,
) -> None:
    """Write schemas/journey.schema.json from the journey models and the event catalog (or
    check it)."""
    events = event_catalog(project_registry().declared_events())
    if check:
        if schema_is_current(events=events):
            typer.echo(f"{SCHEMA_PATH} is up to date")
            return
        typer.echo(f"error: {SCHEMA_PATH} is out of date: run `journeys schema`", err=True)
        raise typer.Exit(1)
    changed = write_schema(events=events)
    typer.echo(f"{'wrote' if changed else 'unchanged:'} {SCHEMA_PATH}")


def _run(paths: list[Path], templates: Path | None) -> tuple[list[SpecError], int]:
    settings = get_settings()
    registry = project_registry()
    targets = paths or [settings.journeys_dir]
    files, _missing = expand_paths(targets)
    errors = validate_paths(
        targets,
        templates_dir=templates or settings.templates.dir,
        known_actions=registry.action_names(),
        known_audiences=registry.audience_names(),
        known_events=event_catalog(registry.declared_events()),
    )
    errors += check_law_labels(files, templates or settings.templates.dir)
    return errors, len(files)


def _styled(error: SpecError) -> str:
    text = error.format()
    label = f"{error.severity}:"
    color = "red" if error.is_error else "yellow"
    return text.replace(label, typer.style(label, fg=color, bold=True), 1)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)

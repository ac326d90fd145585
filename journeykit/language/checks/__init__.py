"""The second pass over a journey that loaded cleanly: names, registered actions and
audiences, known events, expressions, the node graph and the templates. ``validate_paths`` runs
both passes over files and directories and never raises."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from journeykit.language.checks.events import event_errors
from journeykit.language.checks.expressions import expression_errors
from journeykit.language.checks.graph import graph_errors
from journeykit.language.checks.template_scan import TemplateScanner
from journeykit.language.checks.templates import template_errors
from journeykit.language.errors import SpecError, SpecErrors, suggestion
from journeykit.language.event_types import event_catalog
from journeykit.language.loading import LoadedJourney, journey_files, read_journey
from journeykit.language.nodes import CallNode

__all__ = ["check_journey", "expand_paths", "validate_paths"]


def check_journey(
    loaded: LoadedJourney,
    *,
    templates_dir: Path,
    known_actions: Collection[str] | None,
    known_audiences: Collection[str] | None,
    known_events: Collection[str] | None = None,
    scanner: TemplateScanner | None = None,
) -> list[SpecError]:
    """Every problem the schema cannot see; ``None`` for actions or audiences skips that
    check; ``known_events`` defaults to the built-in event types."""
    scanner = scanner or TemplateScanner(Path(templates_dir))
    errors = _name_errors(loaded)
    errors += _registry_errors(loaded, known_actions, known_audiences)
    errors += event_errors(loaded, event_catalog() if known_events is None else known_events)
    errors += expression_errors(loaded)
    errors += graph_errors(loaded)
    errors += template_errors(loaded, scanner)
    return unique(errors)


def validate_paths(
    paths: Iterable[str | Path],
    *,
    templates_dir: Path,
    known_actions: Collection[str] | None = None,
    known_audiences: Collection[str] | None = None,
    known_events: Collection[str] | None = None,
) -> list[SpecError]:
    """Load and check journey files (directories expand to their *.yaml / *.yml files)."""
    files, errors = expand_paths(paths)
    scanner = TemplateScanner(Path(templates_dir))
    names: dict[str, Path] = {}
    for path in files:
        try:
            loaded = read_journey(path)
            errors += check_journey(
                loaded,
                templates_dir=templates_dir,
                known_actions=known_actions,
                known_audiences=known_audiences,
                known_events=known_events,
                scanner=scanner,
            )
        except SpecErrors as exc:
            errors += exc.errors
            continue
        except Exception as exc:  # a bug in a check must not hide the other files' errors
            message = f"internal error while checking this file: {type(exc).__name__}: {exc}"
            errors.append(SpecError(str(path), 0, 0, message, "please report this to developers"))
            continue
        name = loaded.journey.name
        if name in names:
            message = f"journey '{name}' is also defined in {names[name]}"
            errors.append(loaded.error(("name",), message, "journey names must be unique"))
        names.setdefault(name, path)
    return unique(errors)


def expand_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[SpecError]]:
    """The journey files named or contained in ``paths``, and errors for missing paths."""
    files: list[Path] = []
    errors: list[SpecError] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files += journey_files(path)
        elif path.is_file():
            files.append(path)
        else:
            errors.append(SpecError(str(path), 0, 0, "no such file or directory"))
    return list(dict.fromkeys(files)), errors


def unique(errors: Iterable[SpecError]) -> list[SpecError]:
    """Errors without repeats, by file and position."""
    seen: dict[tuple[str, int, int, str], SpecError] = {}
    for error in errors:
        seen.setdefault(error.sort_key(), error)
    return sorted(seen.values(), key=SpecError.sort_key)


def _name_errors(loaded: LoadedJourney) -> list[SpecError]:
    stem = loaded.path.stem
    if loaded.journey.name == stem:
        return []
    message = f"the journey is named '{loaded.journey.name}' but its file is {loaded.path.name}"
    return [loaded.error(("name",), message, f"the name must match the file name: name: {stem}")]


def _registry_errors(
    loaded: LoadedJourney,
    known_actions: Collection[str] | None,
    known_audiences: Collection[str] | None,
) -> list[SpecError]:
    errors = []
    if known_actions is not None:
        for i, node in enumerate(loaded.journey.nodes):
            if isinstance(node, CallNode) and node.action not in known_actions:
                message = f"call node '{node.id}' runs '{node.action}', which is not a registered"
                message += f" action{suggestion(node.action, known_actions)}"
                hint = f"registered actions: {', '.join(sorted(known_actions)) or 'none'}"
                errors.append(loaded.error(("nodes", i, "action"), message, hint))
    audience = loaded.journey.trigger.audience
    if known_audiences is not None and audience is not None and audience not in known_audiences:
        message = f"the trigger's audience '{audience}' is not registered"
        message += suggestion(audience, known_audiences)
        hint = f"registered audiences: {', '.join(sorted(known_audiences)) or 'none'}"
        errors.append(loaded.error(("trigger", "audience"), message, hint))
    return errors

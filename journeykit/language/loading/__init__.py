"""Load journey files: YAML with positions, then the pydantic models, every problem reported
at its ``file:line:col``. Only :class:`SpecErrors` ever comes out, whatever the input."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from journeykit.language.errors import SpecError, SpecErrors, suggestion
from journeykit.language.journey import Journey
from journeykit.language.loading.messages import messages
from journeykit.language.loading.positions import Position, SourceMap, YamlProblem, parse_yaml
from journeykit.language.nodes import Node
from journeykit.language.setting_references import UndefinedSetting, reference_problems

__all__ = ["LoadedJourney", "Position", "load_journey", "load_journeys", "read_journey"]
MAX_BYTES = 2_000_000
_NODE = TypeAdapter(Node)


@dataclass(frozen=True)
class LoadedJourney:
    """A valid journey with where everything is in its file."""

    journey: Journey
    path: Path
    source: str
    positions: SourceMap

    @property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def node_index(self, node_id: str) -> int:
        return next(i for i, n in enumerate(self.journey.nodes) if n.id == node_id)

    def node_position(self, node_id: str) -> Position:
        """Where the node's list item starts (its first key)."""
        return self.positions.at(("nodes", self.node_index(node_id)))

    def node_line(self, node_id: str) -> int:
        return self.node_position(node_id).line

    def error(
        self, path: tuple[Hashable, ...], message: str, hint: str | None = None, **kw: Any
    ) -> SpecError:
        """A SpecError at the value (or, with ``key=True``, the key) at ``path``."""
        use_key = kw.pop("key", False)
        pos = (self.positions.key(path) if use_key else None) or self.positions.at(path)
        error = SpecError(str(self.path), pos.line, pos.col, message, hint, **kw)
        return error.with_source(self.lines)


def read_journey(path: str | Path) -> LoadedJourney:
    """The journey and its positions; raises :class:`SpecErrors` listing every problem."""
    path = Path(path)
    filename = str(path)
    source = _read_text(path)
    lines = source.splitlines()
    try:
        data, where = parse_yaml(source, filename)
    except YamlProblem as problem:
        raise SpecErrors(e.with_source(lines) for e in problem.errors) from None
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        message = f"a journey file is a mapping of 'key: value' lines, but this one is {kind}"
        hint = "start with name:, trigger:, subject: and nodes:"
        raise SpecErrors([SpecError(filename, 1, 1, message, hint).with_source(lines)])
    undefined = reference_problems(data)
    if undefined:
        raise SpecErrors(_undefined_error(p, where, filename).with_source(lines) for p in undefined)
    try:
        journey = Journey.model_validate(data)
    except ValidationError as exc:
        errors = messages(exc, data, where, filename)
        raise SpecErrors(e.with_source(lines) for e in errors) from None
    except Exception as exc:  # a validator that raised something else (e.g. OverflowError)
        raise SpecErrors([_unexpected(exc, data, where, filename).with_source(lines)]) from None
    return LoadedJourney(journey, path, source, where)


def load_journey(path: str | Path) -> Journey:
    """A validated journey; raises :class:`SpecErrors` listing every problem in the file."""
    return read_journey(path).journey


def load_journeys(directory: str | Path) -> dict[str, Journey]:
    """Every ``*.yaml`` / ``*.yml`` journey in ``directory`` by name (errors of all files)."""
    found: dict[str, Journey] = {}
    errors: list[SpecError] = []
    for path in journey_files(Path(directory)):
        try:
            journey = load_journey(path)
        except SpecErrors as exc:
            errors.extend(exc.errors)
            continue
        if journey.name in found:
            message = f"two journey files are named '{journey.name}'"
            errors.append(SpecError(str(path), 1, 1, message, "journey names must be unique"))
        found[journey.name] = journey
    if errors:
        raise SpecErrors(errors)
    return found


def journey_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def _read_text(path: Path) -> str:
    filename = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SpecErrors([SpecError(filename, 0, 0, "the file is too large for a journey")])
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecErrors([SpecError(filename, 0, 0, f"cannot read: {exc.strerror}")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = "save the file as UTF-8 text"
        raise SpecErrors(
            [SpecError(filename, line, col, "the file is not UTF-8 text", hint)]
        ) from None


def _undefined_error(problem: UndefinedSetting, where: SourceMap, filename: str) -> SpecError:
    pos = where.at(problem.path)
    message = str(problem) + suggestion(problem.name, problem.defined)
    defined = ", ".join(problem.defined) or "none"
    hint = f"add {problem.name}: under settings:, or use one it defines ({defined})"
    return SpecError(filename, pos.line, pos.col, message, hint)


def _unexpected(exc: Exception, data: dict[str, Any], where: SourceMap, filename: str) -> SpecError:
    """Point at the node whose validation blew up, when there is one."""
    path: tuple[Hashable, ...] = ()
    nodes = data.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        try:
            _NODE.validate_python(node)
        except ValidationError:
            continue
        except Exception:
            path = ("nodes", index)
            break
    pos = where.at(path)
    message = f"a value here cannot be used ({type(exc).__name__}: {exc})"
    return SpecError(
        filename, pos.line, pos.col, message, "check for numbers that are far too large"
    )

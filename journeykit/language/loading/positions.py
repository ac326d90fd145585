"""YAML text → plain Python data plus the line and column of every key and value.

Round-trip loading (ruamel.yaml) keeps positions; duplicate keys are found on the composed
node tree (all of them, not just the first); aliases are expanded with a budget so an
"alias bomb" becomes an error instead of eating the machine."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from journeykit.language.errors import SpecError
from journeykit.language.loading.syntax_errors import syntax_error

KeyPath = tuple[Hashable, ...]
MAX_VALUES = 100_000  # values after alias expansion; real journeys have a few hundred


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class SourceMap:
    """Where each key and value of the file is; paths are tuples like ``("nodes", 2, "next")``."""

    keys: dict[KeyPath, Position] = field(default_factory=dict)
    values: dict[KeyPath, Position] = field(default_factory=dict)

    def key(self, path: KeyPath) -> Position | None:
        return self.keys.get(tuple(path))

    def value(self, path: KeyPath) -> Position | None:
        return self.values.get(tuple(path))

    def at(self, path: KeyPath) -> Position:
        """The value at ``path``, else its key, else the nearest enclosing value."""
        path = tuple(path)
        while path:
            found = self.values.get(path) or self.keys.get(path)
            if found:
                return found
            path = path[:-1]
        return self.values.get((), Position(1, 1))


class YamlProblem(Exception):
    def __init__(self, errors: list[SpecError]):
        super().__init__(errors)
        self.errors = errors


MAX_FLOW_DEPTH = 100  # nested [ / { ; far beyond any journey, far below a parser's limits


def parse_yaml(text: str, filename: str) -> tuple[Any, SourceMap]:
    """The data and its positions; raises :class:`YamlProblem` with file:line:col errors."""
    too_deep = _flow_too_deep(text)
    if too_deep is not None:
        message = f"the YAML is nested too deeply (more than {MAX_FLOW_DEPTH} levels of [ or {{)"
        raise YamlProblem([SpecError(filename, *too_deep, message)])
    yaml = YAML(typ="rt", pure=True)
    try:
        tree = yaml.compose(text)
    except (MarkedYAMLError, ReaderError, YAMLError) as exc:
        raise YamlProblem([syntax_error(exc, filename, text)]) from None
    except RecursionError:
        raise YamlProblem([SpecError(filename, 1, 1, "the YAML is nested too deeply")]) from None
    duplicates = _duplicate_keys(tree, filename)
    if duplicates:
        raise YamlProblem(duplicates)
    try:
        raw = YAML(typ="rt", pure=True).load(text)
    except (MarkedYAMLError, ReaderError, YAMLError) as exc:
        raise YamlProblem([syntax_error(exc, filename, text)]) from None
    except (ValueError, OverflowError, RecursionError, IndexError) as exc:
        # IndexError: ruamel's int constructor on a sign and underscores only (``-_``).
        line, col, digitless = _unreadable_number(tree)
        message = f"could not read this value: {exc}"
        if "digits" in str(exc):
            message = "this number is far too long to read"
        elif digitless:
            message = "this value reads as a number without digits: quote it if it is text"
        raise YamlProblem([SpecError(filename, line, col, message)]) from None
    converter = _Converter(filename)
    data = converter.convert(raw, (), Position(1, 1))
    if converter.errors:
        raise YamlProblem(converter.errors)
    return data, converter.source_map


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """(line, col) where brackets first nest deeper than ``MAX_FLOW_DEPTH`` (the parser takes
    quadratic time on such input: a 10 kB file would hang the validator)."""
    depth, line, col = 0, 1, 0
    for char in text:
        col += 1
        if char == "\n":
            line, col = line + 1, 0
        elif char in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line, col
        elif char in "]}":
            depth = max(0, depth - 1)
    return None


def _positions(value: Any) -> dict[Any, Any]:
    """ruamel's line/column record of a mapping or sequence (absent on tagged nodes)."""
    return getattr(getattr(value, "lc", None), "data", None) or {}


def _mark(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _duplicate_keys(tree: Node | None, filename: str) -> list[SpecError]:
    errors: list[SpecError] = []
    seen_nodes: set[int] = set()
    stack = [tree] if tree is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[str, Position] = {}
            for key, value in node.value:
                stack.append(value)
                if not isinstance(key, ScalarNode) or key.value == "<<":
                    continue
                where = _mark(key)
                if key.value in first:
                    was = first[key.value]
                    message = f"'{key.value}' appears twice here (first on line {was.line})"
                    hint = "a key may appear once per mapping: remove or rename one of them"
                    errors.append(SpecError(filename, where.line, where.col, message, hint))
                else:
                    first[key.value] = where
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return errors


def _unreadable_number(tree: Node | None) -> tuple[int, int, bool]:
    """Where the first integer the loader cannot read stands (far too long, or no digits at
    all), and whether it has no digits; (1, 1, False) if none is found."""
    stack = [tree] if tree is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode) and str(node.tag).endswith("int"):
            digitless = not any(ch.isdigit() for ch in node.value)
            if digitless or len(node.value) > 1000:
                where = _mark(node)
                return where.line, where.col, digitless
        if isinstance(node, MappingNode):
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return 1, 1, False


class _Converter:
    """Round-trip objects → plain dict/list/str/int/float/bool/None, recording positions."""

    def __init__(self, filename: str):
        self.filename = filename
        self.errors: list[SpecError] = []
        self.source_map = SourceMap()
        self.count = 0
        self.active: set[int] = set()

    def fail(self, where: Position, message: str, hint: str | None = None) -> None:
        if not any(e.message == message for e in self.errors):
            self.errors.append(SpecError(self.filename, where.line, where.col, message, hint))

    def convert(self, value: Any, path: KeyPath, where: Position) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            self.fail(where, f"this file expands to more than {MAX_VALUES} values", _ALIAS_HINT)
            return None
        self.source_map.values.setdefault(path, where)
        if isinstance(value, CommentedMap | CommentedSeq):
            if id(value) in self.active:
                self.fail(where, "an alias refers to the value that contains it", _ALIAS_HINT)
                return None
            self.active.add(id(value))
            try:
                if isinstance(value, CommentedMap):
                    return self._mapping(value, path, where)
                return self._sequence(value, path, where)
            finally:
                self.active.discard(id(value))
        return self._scalar(value, where)

    def _mapping(self, value: CommentedMap, path: KeyPath, where: Position) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, item in value.items():
            if self.errors and self.count > MAX_VALUES:
                break
            spot = _positions(value).get(key)
            key_pos = Position(spot[0] + 1, spot[1] + 1) if spot else where
            value_pos = Position(spot[2] + 1, spot[3] + 1) if spot and item is not None else key_pos
            name = self._key(key, key_pos)
            self.source_map.keys.setdefault((*path, name), key_pos)
            result[name] = self.convert(item, (*path, name), value_pos)
        return result

    def _sequence(self, value: CommentedSeq, path: KeyPath, where: Position) -> list[Any]:
        result = []
        for index, item in enumerate(value):
            spot = _positions(value).get(index)
            item_pos = Position(spot[0] + 1, spot[1] + 1) if spot else where
            result.append(self.convert(item, (*path, index), item_pos))
        return result

    def _key(self, key: Any, where: Position) -> str:
        if isinstance(key, str | int | float | bool) or key is None:
            return str(key)
        self.fail(where, "a key must be a plain word, not a list or mapping")
        return repr(key)

    def _scalar(self, value: Any, where: Position) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if type(value).__name__ == "ScalarBoolean":
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, date):
            return value
        tag = getattr(getattr(value, "tag", None), "value", None) or type(value).__name__
        self.fail(where, f"YAML tags such as '{tag}' are not allowed", "write plain values")
        return None


_ALIAS_HINT = "anchors (&name) and aliases (*name) are expanded; nest them less deeply"

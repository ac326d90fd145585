"""pydantic's validation errors → marketer-friendly SpecErrors at the offending key or value."""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from journeykit.language.errors import SpecError, quoted_list, suggestion
from journeykit.language.loading.parts import NODE_TYPES, describe, fields_of, model_at
from journeykit.language.loading.positions import SourceMap

_SNAKE_HINT = "use lower_snake_case: lowercase letters, digits and '_', starting with a letter"
_UNION_MEMBERS = {"str", "int", "float", "bool"}
_SHOULD_BE = {
    "string_type": "should be text",
    "int_type": "should be a whole number",
    "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "list_type": "should be a list (e.g. [a, b], or lines starting with '- ')",
    "dict_type": "should be a mapping of 'key: value' lines",
    "model_type": "should be a mapping of 'key: value' lines",
    "model_attributes_type": "should be a mapping of 'key: value' lines",
}


def messages(exc: ValidationError, data: Any, where: SourceMap, filename: str) -> list[SpecError]:
    out = [_duplicate_id(i, node_id, where, filename) for i, node_id in _duplicate_ids(data)]
    for error in exc.errors(include_url=False):
        spec_error = _one(error, data, where, filename)
        if not any(e.message == spec_error.message and e.line == spec_error.line for e in out):
            out.append(spec_error)
    return out


def resolve(loc: tuple[Hashable, ...], data: Any) -> tuple[tuple[Hashable, ...], tuple[Any, ...]]:
    """Split a pydantic ``loc`` into the path that exists in the data and the rest, skipping
    the discriminator tag pydantic inserts after a node's index."""
    path: list[Hashable] = []
    current = data
    for index, part in enumerate(loc):
        if _has(current, part):
            path.append(part)
            current = current[part]
        elif isinstance(current, dict) and part == current.get("type") and part in NODE_TYPES:
            continue
        else:
            return tuple(path), tuple(loc[index:])
    return tuple(path), ()


def _has(container: Any, part: Hashable) -> bool:
    if isinstance(container, dict):
        return isinstance(part, str) and part in container
    if isinstance(container, list):
        return isinstance(part, int) and 0 <= part < len(container)
    return False


def _one(error: ErrorDetails, data: Any, where: SourceMap, filename: str) -> SpecError:
    kind = error["type"]
    path, rest = resolve(tuple(error["loc"]), data)
    ctx = error.get("ctx") or {}

    def at(p: tuple[Hashable, ...], message: str, hint: str | None = None, key: bool = False):
        pos = (where.key(p) if key else None) or where.at(p)
        return SpecError(filename, pos.line, pos.col, message, hint)

    if kind == "extra_forbidden" and path:
        owner, name = path[:-1], str(path[-1])
        allowed = fields_of(model_at(owner, data))
        message = (
            f"{describe(owner, data)} has an unknown field '{name}'{suggestion(name, allowed)}"
        )
        return at(path, message, _extra_hint(name, allowed, owner, data), key=True)
    if kind == "missing" and rest:
        name = str(rest[0])
        model = model_at(path, data)
        info = model.model_fields.get(name) if model else None
        hint = f"{name}: {info.description}" if info and info.description else None
        return at(path, f"{describe(path, data)} needs '{name}'", hint)
    if kind == "union_tag_not_found":
        return at(path, f"{describe(path, data)} needs a 'type'", f"type: {_node_types()}")
    if kind == "union_tag_invalid":
        tag = ctx.get("tag")
        message = f"{describe(path, data)} has type '{tag}', which is not a node type"
        return at((*path, "type"), message + suggestion(tag, NODE_TYPES), f"type: {_node_types()}")
    owner = path if rest and str(rest[0]) not in _UNION_MEMBERS else path[:-1]
    name = str(path[-1]) if path and owner != path else str(rest[0]) if rest else ""
    what = describe(owner, data)
    got = error.get("input")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"{what}: '{got}' is not a valid {name}{suggestion(got, choices)}"
        return at(path, message, f"write one of {quoted_list(choices)}")
    if kind == "string_pattern_mismatch":
        return at(path, f"{what}: {_pattern_message(name, got)}", _snake_example(got))
    if kind in ("value_error", "assertion_error"):
        text = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return _value_error(text, path, rest, data, at)
    if rest and str(rest[0]) in _UNION_MEMBERS:
        return at(path, f"'{name}' of {what} should be text, a number or true/false{_got(got)}")
    if kind in _SHOULD_BE:
        return at(path, f"'{name}' of {what} {_SHOULD_BE[kind]}{_got(got)}")
    if kind == "too_short":
        count = ctx.get("min_length", 1)
        return at(path, f"{what} needs at least {count} item(s) under '{name}'")
    text = str(error["msg"]).replace("Input should", "should")
    return at(path, f"'{name}' of {what} {text}" if name else f"{what}: {text}")


def _value_error(
    text: str, path: tuple[Hashable, ...], rest: tuple[Any, ...], data: Any, at: Any
) -> SpecError:
    for index, node_id in _duplicate_ids(data):
        if text == f"node id '{node_id}' is used twice":
            return at(("nodes", index, "id"), text, "give each node its own id")
    if not rest and path and isinstance(path[-1], str) and path[-1] != "nodes":
        # a field's own validator (duration, time of day)
        return at(path, f"{describe(path[:-1], data)}: {text}")
    what = describe(path, data)
    for article in ("a wait ", "an outcome "):
        if text.startswith(article):
            return at(path, f"{what} {text.removeprefix(article)}")
    return at(path, f"{what}: {text}")


def _duplicate_ids(data: Any) -> list[tuple[int, str]]:
    """(index, id) of nodes whose id an earlier node already uses."""
    nodes = data.get("nodes") if isinstance(data, dict) else None
    seen: set[str] = set()
    repeats = []
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        node_id = node.get("id") if isinstance(node, dict) else None
        if isinstance(node_id, str):
            if node_id in seen:
                repeats.append((index, node_id))
            seen.add(node_id)
    return repeats


def _duplicate_id(index: int, node_id: str, where: SourceMap, filename: str) -> SpecError:
    pos = where.at(("nodes", index, "id"))
    message = f"node id '{node_id}' is used twice"
    return SpecError(filename, pos.line, pos.col, message, "give each node its own id")


def _extra_hint(name: str, allowed: list[str], owner: tuple[Hashable, ...], data: Any) -> str:
    if suggestion(name, allowed):
        return f"allowed here: {', '.join(allowed)}"
    if len(owner) == 2 and owner[0] == "nodes":
        elsewhere = [t for t, m in NODE_TYPES.items() if name in fields_of(m)]
        if elsewhere:
            return f"'{name}' belongs to {' / '.join(elsewhere)} nodes; allowed here: " + ", ".join(
                allowed
            )
    return f"allowed here: {', '.join(allowed)}"


def _pattern_message(name: str, got: Any) -> str:
    if name in ("next", "on_timeout", "otherwise", "start"):
        return f"'{got}' in '{name}' is not a valid node id"
    if name == "id":
        return f"'{got}' is not a valid node id"
    return f"'{got}' is not a valid {name}"


def _snake_example(got: Any) -> str:
    if isinstance(got, str):
        snake = re.sub(r"[^a-z0-9]+", "_", got.strip().lower()).strip("_")
        if snake and snake[0].isalpha():
            return f"{_SNAKE_HINT}, e.g. '{snake}'"
    return _SNAKE_HINT


def _got(value: Any) -> str:
    if value is None:
        return " (it is empty)"
    if isinstance(value, dict):
        return " (got a mapping)"
    if isinstance(value, list):
        return " (got a list)"
    if isinstance(value, bool):
        return f" (got {str(value).lower()})"
    text = repr(value) if isinstance(value, str) else str(value)
    return f" (got {text[:60]})"


def _node_types() -> str:
    return " | ".join(NODE_TYPES)

"""A journey's ``settings:`` used as values: ``${settings.NAME}`` in any node value (and in
``frequency_cap``), so each number is stated once::

    settings:
      offer_days: 3
      credit_percent: 10
    nodes:
      - {id: wait_choice, type: wait_for, timeout: "${settings.offer_days}d", ...}
      - {id: do_credit, type: call, action: issue_store_credit,
         params: {percent: "${settings.credit_percent}"}}

A value that is exactly one reference takes the setting's value as it is (``10`` stays a
number); a reference inside longer text is replaced by the setting's text (``"3d"``). The
references are resolved when the journey is validated (``Journey`` resolves them before its
fields are checked), so the engine only ever sees plain values; an undefined setting is an
error at the reference."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

REFERENCE = re.compile(r"\$\{\s*settings\.([A-Za-z_][A-Za-z0-9_]*)\s*\}")
# For the JSON Schema: a string holding at least one reference.
REFERENCE_PATTERN = r"\$\{\s*settings\.[A-Za-z_][A-Za-z0-9_]*\s*\}"
# The parts of a journey whose values may refer to settings.
SCOPES = ("nodes", "frequency_cap")

Path = tuple[Hashable, ...]


class UndefinedSetting(ValueError):
    def __init__(self, path: Path, name: str, defined: Mapping[str, Any]) -> None:
        self.path, self.name = path, name
        self.defined = sorted(defined)
        super().__init__(f"'${{settings.{name}}}' refers to a setting the journey does not define")


def reference_problems(data: Mapping[str, Any]) -> list[UndefinedSetting]:
    """Every reference to a setting that ``data['settings']`` does not define."""
    settings = _settings(data)
    problems = []
    for path, text in _strings(data):
        for match in REFERENCE.finditer(text):
            if match.group(1) not in settings:
                problems.append(UndefinedSetting(path, match.group(1), settings))
    return problems


def resolve_references(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with every reference replaced by its setting's value; raises
    ``UndefinedSetting`` for the first undefined one."""
    settings = _settings(data)
    resolved = dict(data)
    for scope in SCOPES:
        if scope in resolved:
            resolved[scope] = _resolve(resolved[scope], settings, (scope,))
    return resolved


def _settings(data: Mapping[str, Any]) -> Mapping[str, Any]:
    settings = data.get("settings")
    return settings if isinstance(settings, Mapping) else {}


def _strings(data: Mapping[str, Any]) -> Iterator[tuple[Path, str]]:
    def walk(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, Mapping):
            for key, item in value.items():
                yield from walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from walk(item, (*path, index))

    for scope in SCOPES:
        if scope in data:
            yield from walk(data[scope], (scope,))


def _resolve(value: Any, settings: Mapping[str, Any], path: Path) -> Any:
    if isinstance(value, str):
        return _substitute(value, settings, path)
    if isinstance(value, Mapping):
        return {k: _resolve(v, settings, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, settings, (*path, i)) for i, v in enumerate(value)]
    return value


def _substitute(text: str, settings: Mapping[str, Any], path: Path) -> Any:
    whole = REFERENCE.fullmatch(text.strip())
    if whole:
        return _value(whole.group(1), settings, path)

    def replace(match: re.Match[str]) -> str:
        return str(_value(match.group(1), settings, path))

    return REFERENCE.sub(replace, text)


def _value(name: str, settings: Mapping[str, Any], path: Path) -> Any:
    if name not in settings:
        raise UndefinedSetting(path, name, settings)
    return settings[name]

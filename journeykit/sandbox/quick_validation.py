"""A quick verdict for the sandbox's hottest request, Twilio's create-message form.

openapi-core spends about 4.7 ms of CPU on each such request (finding the operation, building
its casters and validators), which capped the sandbox at ~200 SMS/s. :class:`FormCheck` checks
the same form against the same spec schema, with the same OAS 3.0 write validator and format
checker openapi-core uses, built once. Only a clean pass is trusted: whatever it cannot cast or
does not pass goes through the full openapi-core validation, which then words the errors.

The form's schema is an object of ``properties`` with a ``required`` list, so a form passes
exactly when its required fields are there and each field passes its own property's schema.
:class:`FormCheck` checks it that way: a property whose schema says no more than its type
(which the cast already made sure of) is not run through jsonschema at all, and only the
others (formats the checker knows, patterns, lengths, enums, array items) are, each with its
own validator. A schema with any other object keyword is checked whole, as before.
"""

from __future__ import annotations

import re
from typing import Any

from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
_UNCASTABLE = object()

# Keywords that say nothing about a value the cast already gave the schema's type.
_NOTHING_TO_CHECK = frozenset({"type", "title", "description", "example", "nullable"})
# Object keywords the field-by-field check covers (any other: the whole schema is validated).
_FIELD_BY_FIELD = frozenset({"type", "title", "description", "properties", "required"})
_PATH_VERDICTS_KEPT = 64


def _inline(node: Any, spec: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by what it points at."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = spec
            for part in ref[2:].split("/"):
                target = target[part]
            return _inline(target, spec)
        return {k: _inline(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, spec) for v in node]
    return node


def _cast(kind: str | None, value: str) -> Any:
    """The form value as the schema types it, or ``_UNCASTABLE`` (left to openapi-core)."""
    if kind in (None, "string"):
        return value
    if kind == "integer":
        return int(value) if _INTEGER.fullmatch(value) else _UNCASTABLE
    if kind == "number":
        return float(value) if _NUMBER.fullmatch(value) else _UNCASTABLE
    if kind == "boolean":
        return _BOOLEANS.get(value, _UNCASTABLE)
    return _UNCASTABLE


class FormCheck:
    """Pass/fail for one form-encoded operation of a spec (``spec`` as a parsed dict)."""

    def __init__(self, spec: dict[str, Any], path: str, method: str = "post") -> None:
        operation = spec["paths"][path][method]
        media = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
        schema = _inline(media["schema"], spec)
        properties = schema.get("properties", {})
        self.types = {name: prop.get("type") for name, prop in properties.items()}
        self.arrays = {name for name, kind in self.types.items() if kind == "array"}
        self.items = {
            name: (properties[name].get("items") or {}).get("type") for name in self.arrays
        }
        self.body = OAS30WriteValidator(schema, format_checker=oas30_format_checker)
        self.by_field = schema.get("type") == "object" and _FIELD_BY_FIELD.issuperset(schema)
        self.required = frozenset(schema.get("required", []))
        self.field_checks = {
            name: OAS30WriteValidator(prop, format_checker=oas30_format_checker)
            for name, prop in properties.items()
            if not _says_only_its_type(prop)
        }
        self._path_verdicts: dict[tuple[str, str], bool] = {}
        self.path_params = {
            p["name"]: OAS30WriteValidator(
                _inline(p["schema"], spec), format_checker=oas30_format_checker
            )
            for p in _inline(operation.get("parameters", []), spec)
            if p.get("in") == "path"
        }

    def _path_value_passes(self, name: str, value: str) -> bool:
        """A path parameter's verdict, remembered (the account SID is the same every time)."""
        verdict = self._path_verdicts.get((name, value))
        if verdict is None:
            verdict = bool(self.path_params[name].is_valid(value))
            if len(self._path_verdicts) >= _PATH_VERDICTS_KEPT:
                self._path_verdicts.clear()
            self._path_verdicts[(name, value)] = verdict
        return verdict

    def passes(self, path_values: dict[str, str], form: list[tuple[str, str]]) -> bool:
        """True only if the request is surely valid; False means "ask openapi-core"."""
        for name in self.path_params:
            if name not in path_values or not self._path_value_passes(name, path_values[name]):
                return False
        data = self.cast(form)
        if data is None:
            return False
        if not self.by_field:
            return self.passes_whole(data)
        if not self.required.issubset(data):
            return False
        for key, value in data.items():
            check = self.field_checks.get(key)
            if check is not None and not check.is_valid(value):
                return False
        return True

    def cast(self, form: list[tuple[str, str]]) -> dict[str, Any] | None:
        """The form's values as the schema types them, or None if one does not cast or a
        single-valued field repeats (both left to openapi-core)."""
        data: dict[str, Any] = {}
        for key, raw in form:
            if key in self.arrays:
                value = _cast(self.items[key], raw)
                if value is _UNCASTABLE:
                    return None
                data.setdefault(key, []).append(value)
                continue
            if key in data:
                return None
            value = _cast(self.types.get(key), raw)
            if value is _UNCASTABLE:
                return None
            data[key] = value
        return data

    def passes_whole(self, data: dict[str, Any]) -> bool:
        """The whole schema's verdict on cast data (what the field-by-field check equals)."""
        return bool(self.body.is_valid(data))


def _says_only_its_type(prop: Any) -> bool:
    """Whether a property's schema checks nothing but its (non-array) type: its other keywords
    are annotations, vendor extensions (``x-``), or a format the checker does not know (which
    passes every value)."""
    if not isinstance(prop, dict) or prop.get("type") in ("array", "object"):
        return False
    for keyword, value in prop.items():
        if keyword in _NOTHING_TO_CHECK or keyword.startswith("x-"):
            continue
        if keyword == "format" and value not in oas30_format_checker.checkers:
            continue
        return False
    return True

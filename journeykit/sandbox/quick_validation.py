"""A quick verdict for the sandbox's hottest request, Twilio's create-message form.

openapi-core spends about 4.7 ms of CPU on each such request (finding the operation, building
its casters and validators), which capped the sandbox at ~200 SMS/s. :class:`FormCheck` checks
the same form against the same spec schema, with the same OAS 3.0 write validator and format
checker openapi-core uses, built once. Only a clean pass is trusted: whatever it cannot cast or
does not pass goes through the full openapi-core validation, which then words the errors.
"""

from __future__ import annotations

import re
from typing import Any

from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
_UNCASTABLE = object()


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
        self.path_params = {
            p["name"]: OAS30WriteValidator(
                _inline(p["schema"], spec), format_checker=oas30_format_checker
            )
            for p in _inline(operation.get("parameters", []), spec)
            if p.get("in") == "path"
        }

    def passes(self, path_values: dict[str, str], form: list[tuple[str, str]]) -> bool:
        """True only if the request is surely valid; False means "ask openapi-core"."""
        for name, validator in self.path_params.items():
            if name not in path_values or not validator.is_valid(path_values[name]):
                return False
        data: dict[str, Any] = {}
        for key, raw in form:
            if key in self.arrays:
                value = _cast(self.items[key], raw)
                if value is _UNCASTABLE:
                    return False
                data.setdefault(key, []).append(value)
                continue
            if key in data:  # a repeated single-valued field: let openapi-core decide
                return False
            value = _cast(self.types.get(key), raw)
            if value is _UNCASTABLE:
                return False
            data[key] = value
        return bool(self.body.is_valid(data))

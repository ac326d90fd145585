"""The JSON Schema of journey files, for editors (``# yaml-language-server: $schema=...``).

``journeys schema`` (``make schema``) rewrites ``schemas/journey.schema.json`` with the
project's event catalog (built-in events and those its actions and flows declare); a test fails
when the committed file differs from what the models generate. Settings references
(``${settings.NAME}``) are accepted wherever a duration or a number is."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from journeykit.language.event_types import event_catalog
from journeykit.language.journey import Journey
from journeykit.language.setting_references import REFERENCE_PATTERN

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "journey.schema.json"
TITLE = "Journeykit journey"
DESCRIPTION = (
    "A customer journey: the event that starts it (trigger), what it is about (subject), and "
    "a flat list of nodes linked by id (send, wait, wait_for, branch, call, split, exit). "
    "Durations are written like 3d, 12h, 30m, 2w or ISO 8601 P3DT4H. A node value may use the "
    "journey's settings: ${settings.NAME}."
)
SETTING_REFERENCE = {
    "type": "string",
    "pattern": REFERENCE_PATTERN,
    "description": "a value from the journey's settings, e.g. ${settings.offer_days}",
}
# The short forms parse_duration accepts (case-insensitive), or ISO 8601 starting with P.
DURATION_PATTERN = (
    r"^\s*(?=.*\d)(\d+\s*[wW])?\s*(\d+\s*[dD])?\s*(\d+\s*[hH])?\s*(\d+\s*[mM])?\s*(\d+\s*[sS])?\s*$"
    r"|^\s*[pP]"
)


class _JourneySchema(GenerateJsonSchema):
    def timedelta_schema(self, schema: core_schema.TimedeltaSchema) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": f"{DURATION_PATTERN}|{REFERENCE_PATTERN}",
            "description": "a duration, e.g. 3d, 12h, 30m, 2w, 1w 2d or ISO 8601 P3DT4H, or "
            "one using the journey's settings, e.g. ${settings.offer_days}d",
            "examples": ["3d", "12h", "1w 2d", "${settings.offer_days}d"],
        }

    def int_schema(self, schema: core_schema.IntSchema) -> JsonSchemaValue:
        return {"anyOf": [super().int_schema(schema), SETTING_REFERENCE]}


def journey_schema(events: Iterable[str] | None = None) -> dict[str, Any]:
    """The schema; ``events``: the event names journeys may use (default: the built-in)."""
    schema = Journey.model_json_schema(by_alias=True, schema_generator=_JourneySchema)
    names = list(event_catalog() if events is None else events)
    defs = schema["$defs"]
    defs["EventType"] = {
        "type": "string",
        "enum": names,
        "description": "a known domain event: built-in, or declared by an action or flow",
    }
    reference = {"$ref": "#/$defs/EventType"}
    _merge(schema["properties"]["exit_when"]["items"], reference)
    _merge(defs["Trigger"]["properties"]["event"], reference)
    outcome_event = defs["Outcome"]["properties"]["event"]
    outcome_event["anyOf"] = [reference, {"type": "null"}]
    schema["title"] = TITLE
    schema["description"] = DESCRIPTION
    schema["$id"] = "https://journeykit.dev/schemas/journey.schema.json"
    schema["properties"]["$schema"]["description"] = "path of this JSON Schema, for editors"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _merge(target: dict[str, Any], reference: dict[str, Any]) -> None:
    target.pop("type", None)
    target.update(reference)


def render_schema(events: Iterable[str] | None = None) -> str:
    schema = journey_schema(events)
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH, events: Iterable[str] | None = None) -> bool:
    """Write the schema; True when the file changed."""
    text = render_schema(events)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def schema_is_current(path: Path = SCHEMA_PATH, events: Iterable[str] | None = None) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == render_schema(events)

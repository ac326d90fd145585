"""The JSON Schema of journey files, for editors (``# yaml-language-server: $schema=...``).

``python -m journeykit.language.schema`` rewrites ``schemas/journey.schema.json``; a test fails
when the committed file differs from what the models generate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from journeykit.language.journey import Journey

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "journey.schema.json"
TITLE = "Journeykit journey"
DESCRIPTION = (
    "A customer journey: the event that starts it (trigger), what it is about (subject), and "
    "a flat list of nodes linked by id (send, wait, wait_for, branch, call, split, exit). "
    "Durations are written like 3d, 12h, 30m, 2w or ISO 8601 P3DT4H."
)
# The short forms parse_duration accepts (case-insensitive), or ISO 8601 starting with P.
DURATION_PATTERN = (
    r"^\s*(?=.*\d)(\d+\s*[wW])?\s*(\d+\s*[dD])?\s*(\d+\s*[hH])?\s*(\d+\s*[mM])?\s*(\d+\s*[sS])?\s*$"
    r"|^\s*[pP]"
)


class _JourneySchema(GenerateJsonSchema):
    def timedelta_schema(self, schema: core_schema.TimedeltaSchema) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": DURATION_PATTERN,
            "description": "a duration, e.g. 3d, 12h, 30m, 2w, 1w 2d or ISO 8601 P3DT4H",
            "examples": ["3d", "12h", "1w 2d"],
        }


def journey_schema() -> dict[str, Any]:
    schema = Journey.model_json_schema(by_alias=True, schema_generator=_JourneySchema)
    schema["title"] = TITLE
    schema["description"] = DESCRIPTION
    schema["$id"] = "https://journeykit.dev/schemas/journey.schema.json"
    schema["properties"]["$schema"]["description"] = "path of this JSON Schema, for editors"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def render_schema() -> str:
    return json.dumps(journey_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> bool:
    """Write the schema; True when the file changed."""
    text = render_schema()
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def schema_is_current(path: Path = SCHEMA_PATH) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == render_schema()


if __name__ == "__main__":
    changed = write_schema()
    print(f"{'wrote' if changed else 'unchanged:'} {SCHEMA_PATH}")

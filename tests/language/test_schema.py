"""The committed JSON Schema is what the models generate, and it accepts real journeys."""

from __future__ import annotations

import json
import re

from journeykit.language.event_types import event_catalog
from journeykit.language.schema import DURATION_PATTERN, SCHEMA_PATH, journey_schema, render_schema
from journeykit.service.registry_loader import project_registry


def test_committed_schema_is_current():
    events = event_catalog(project_registry().declared_events())
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(events), (
        "schemas/journey.schema.json is out of date: run `make schema` (`journeys schema`)"
    )


def test_schema_shape():
    schema = journey_schema()
    assert schema["title"] == "Journeykit journey"
    assert schema["description"]
    assert "$schema" in schema["properties"]
    assert schema["additionalProperties"] is False
    assert render_schema().endswith("}\n")
    json.loads(render_schema())


def test_duration_pattern_matches_what_the_parser_accepts():
    for good in ("3d", "12h", "1w 2d", "90s", "P3DT4H", "2W"):
        assert re.search(DURATION_PATTERN, good), good
    for bad in ("", "3 dayz", "d", "soon"):
        assert not re.search(DURATION_PATTERN, bad), bad

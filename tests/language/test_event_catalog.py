"""Every event a journey names is in the catalog (built-in + declared): an unknown one is a
file:line:col error with "did you mean"; the JSON Schema lists the names."""

from __future__ import annotations

from pathlib import Path

from journeykit.language.checks import validate_paths
from journeykit.language.event_types import EVENT_TYPES, event_catalog
from journeykit.language.schema import journey_schema
from tests.language.conftest import TEMPLATES, where

JOURNEY = """\
name: typos
trigger: {event: order.plced}
subject: order
exit_when: [order.cancelled, order.shiped]
nodes:
  - id: wait
    type: wait_for
    outcomes:
      - {event: order.delivred, next: done}
      - {action: review, next: done}
    timeout: 1d
    on_timeout: done
  - {id: done, type: exit}
"""


def _check(tmp_path: Path, known: tuple[str, ...] | None = None) -> list:
    path = tmp_path / "typos.yaml"
    path.write_text(JOURNEY)
    return validate_paths([path], templates_dir=TEMPLATES, known_events=known)


def test_unknown_events_are_errors_at_their_place_with_a_suggestion(tmp_path: Path) -> None:
    found = _check(tmp_path)
    assert [where(e) for e in found] == [
        ("typos.yaml", 2, 18),
        ("typos.yaml", 4, 30),
        ("typos.yaml", 9, 17),
    ]
    assert all(e.is_error for e in found)
    assert "the trigger's event names 'order.plced', which is not a known event" in (
        found[0].message
    )
    assert "did you mean 'order.placed'?" in found[0].message
    assert "did you mean 'order.shipped'?" in found[1].message
    assert "outcome 1 of wait_for node 'wait'" in found[2].message
    assert "did you mean 'order.delivered'?" in found[2].message


def test_declared_events_are_known(tmp_path: Path) -> None:
    catalog = event_catalog(["order.plced", "order.shiped", "order.delivred"])
    assert catalog[: len(EVENT_TYPES)] == EVENT_TYPES
    assert _check(tmp_path, catalog) == []


def test_the_schema_lists_the_event_names() -> None:
    schema = journey_schema(event_catalog(["gift_card.sent"]))
    names = schema["$defs"]["EventType"]["enum"]
    assert names == [*EVENT_TYPES, "gift_card.sent"]
    reference = {"$ref": "#/$defs/EventType"}
    assert schema["properties"]["exit_when"]["items"] == reference | {
        k: v for k, v in schema["properties"]["exit_when"]["items"].items() if k != "$ref"
    }
    assert schema["$defs"]["Trigger"]["properties"]["event"]["$ref"] == reference["$ref"]
    assert reference in schema["$defs"]["Outcome"]["properties"]["event"]["anyOf"]

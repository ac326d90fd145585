"""A journey's settings are usable as values (``${settings.NAME}``): resolved before the
fields are checked, an undefined one is a file:line:col error, the schema accepts them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from journeykit.engine.book import parse_source
from journeykit.language.errors import SpecErrors
from journeykit.language.loading import load_journey
from journeykit.language.nodes import CallNode, SendNode, WaitForNode, WaitNode
from journeykit.language.schema import journey_schema
from journeykit.language.setting_references import REFERENCE_PATTERN, resolve_references

JOURNEY = """\
name: offer
trigger: {event: order.delayed}
subject: order
settings:
  offer_days: 3
  credit_percent: 10
  ask_at: "10:00"
nodes:
  - id: mail
    type: send
    channel: email
    template: shop/thanks
    offer_valid_for: "${settings.offer_days}d"
    next: choose
  - id: choose
    type: wait_for
    outcomes:
      - {action: credit, next: credit}
    timeout: "${settings.offer_days}d 12h"
    on_timeout: morning
  - id: morning
    type: wait
    until: "${settings.ask_at}"
    next: done
  - id: credit
    type: call
    action: issue_store_credit
    params: {percent: "${ settings.credit_percent }", note: "${settings.credit_percent}% off"}
    next: done
  - {id: done, type: exit}
"""


def test_references_become_the_settings_values(tmp_path: Path) -> None:
    path = tmp_path / "offer.yaml"
    path.write_text(JOURNEY)
    journey = load_journey(path)
    mail, choose, morning, credit = journey.nodes[:4]
    assert isinstance(mail, SendNode) and mail.offer_valid_for == timedelta(days=3)
    assert isinstance(choose, WaitForNode) and choose.timeout == timedelta(days=3, hours=12)
    assert isinstance(morning, WaitNode) and morning.until == "10:00"
    assert isinstance(credit, CallNode)
    assert credit.params == {"percent": 10, "note": "10% off"}  # a whole reference keeps its type
    assert parse_source(JOURNEY) == journey  # snapshots resolve the same way


def test_an_undefined_setting_is_an_error_at_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "offer.yaml"
    path.write_text(JOURNEY.replace("${settings.offer_days}d 12h", "${settings.offer_dayz}d"))
    with pytest.raises(SpecErrors) as raised:
        load_journey(path)
    (error,) = raised.value.errors
    assert (error.line, error.col) == (19, 14)
    assert "'${settings.offer_dayz}' refers to a setting the journey does not define" in (
        error.message
    )
    assert "did you mean 'offer_days'?" in error.message
    assert "credit_percent" in (error.hint or "")


def test_only_node_values_are_resolved() -> None:
    data = {"description": "${settings.x}", "settings": {"x": 1}, "nodes": [{"a": "${settings.x}"}]}
    assert resolve_references(data) == {**data, "nodes": [{"a": 1}]}


def test_the_schema_accepts_references_in_durations_and_numbers() -> None:
    schema = journey_schema()
    duration = schema["$defs"]["WaitForNode"]["properties"]["timeout"]
    assert re.search(duration["pattern"], "${settings.offer_days}d")
    assert re.search(duration["pattern"], "3d")
    business_days = schema["$defs"]["WaitNode"]["properties"]["business_days"]
    patterns = [choice.get("pattern") for choice in business_days["anyOf"]]
    assert REFERENCE_PATTERN in patterns

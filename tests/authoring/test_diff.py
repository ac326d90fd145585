"""``diff_journeys``: node by node, field by field; live counts per node from a database."""

from __future__ import annotations

from journeykit.authoring.diff import add_live_counts, diff_journeys, field_changes, live_counts
from journeykit.engine.book import parse_source
from tests.authoring.conftest import V1, V2


def test_nodes_added_removed_and_changed_field_by_field() -> None:
    result = diff_journeys(parse_source(V1), parse_source(V2))
    kinds = {c.node: c.kind for c in result.nodes}
    assert kinds == {
        "receipt": "changed",
        "pause": "removed",
        "ask": "removed",
        "done": "changed",
        "settle": "added",
        "ask_again": "added",
    }
    receipt = next(c for c in result.nodes if c.node == "receipt")
    assert [(f.field, f.old, f.new) for f in receipt.fields] == [("next", "pause", "settle")]
    done = next(c for c in result.nodes if c.node == "done")
    assert [(f.field, f.old, f.new) for f in done.fields] == [("reason", "completed", "finished")]


def test_journey_level_settings_are_compared_key_by_key() -> None:
    old = parse_source(V1 + "settings: {offer_days: 3, credit_percent: 10}\n")
    new = parse_source(V1 + "settings: {offer_days: 2, credit_percent: 10}\n")
    result = diff_journeys(old, new)
    assert [(f.field, f.old, f.new) for f in result.journey_fields] == [
        ("settings.offer_days", 3, 2)
    ]
    assert result.nodes == []
    assert diff_journeys(old, old).empty


def test_lists_of_conditions_are_compared_by_position() -> None:
    changes = field_changes(
        {"branches": [{"when": "a > 1", "next": "x"}]},
        {"branches": [{"when": "a > 2", "next": "x"}]},
    )
    assert [(c.field, c.old, c.new) for c in changes] == [("branches.0.when", "a > 1", "a > 2")]


def test_live_enrollments_are_counted_at_each_changed_node(waiting) -> None:
    counts = live_counts(waiting.url, "care")
    assert counts == {"pause": 1}
    assert live_counts(waiting.url, "care", version=waiting.v2) == {}
    result = diff_journeys(parse_source(V1), parse_source(V2))
    add_live_counts(result, counts)
    assert {c.node: c.live for c in result.nodes if c.live} == {"pause": 1}

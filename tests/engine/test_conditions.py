"""What a condition reads decides when the engine may evaluate it once per distinct input."""

from __future__ import annotations

import pytest

from journeykit.engine.nodes.conditions import data_inputs, data_keys_read, names_in


@pytest.mark.parametrize(
    ("condition", "keys"),
    [
        ("enrollment.data.wave == 'alert'", ("wave",)),
        ("'email' in enrollment.data.channels", ("channels",)),
        ("settings.sold_out_note and 'email' in enrollment.data.channels", ("channels",)),
        (
            "enrollment.data.withdrawn is not defined or 'x' not in enrollment.data.withdrawn",
            ("withdrawn",),
        ),
        ("enrollment.data.a.b == 1 and journey.name == 'r'", ("a",)),
        ("enrollment.id > 3", None),  # reads more than data
        ("enrollment.data | length > 2", None),  # the whole data
        ("enrollment.data['x'] == 1", None),  # not read as an attribute
        ("event.x == 1", None),
        ("variant.inventory > 0", None),
    ],
)
def test_data_keys_read(condition: str, keys: tuple[str, ...] | None) -> None:
    assert data_keys_read(condition) == keys


def test_inputs_tell_types_and_absence_apart() -> None:
    keys = ("a",)
    assert data_inputs(keys, {"a": 1}) != data_inputs(keys, {"a": True})
    assert data_inputs(keys, {"a": 1}) != data_inputs(keys, {"a": 1.0})
    assert data_inputs(keys, {}) != data_inputs(keys, {"a": None})
    assert data_inputs(keys, {"a": ["x", "y"], "b": 2}) == data_inputs(keys, {"a": ["x", "y"]})
    assert data_inputs(keys, {"a": {"k": [1]}}) != data_inputs(keys, {"a": {"k": [2]}})


def test_names_in() -> None:
    assert names_in("variant.inventory > 0 and settings.x") == {"variant", "settings"}

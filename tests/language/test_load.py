"""The loader: schema errors at the offending key or value, in words a marketer can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.language.errors import SpecErrors
from journeykit.language.loading import load_journey, load_journeys, read_journey
from tests.language.conftest import BROKEN, GOOD, where


def errors_of(case: str) -> list:
    with pytest.raises(SpecErrors) as info:
        load_journey(BROKEN / f"{case}.yaml")
    return info.value.errors


def test_good_journey_loads_with_positions():
    loaded = read_journey(GOOD)
    assert loaded.journey.name == "good"
    assert loaded.node_line("thanks_email") == 10
    assert loaded.node_line("done") == 43
    assert loaded.positions.key(("nodes", 0, "template")).line == 13
    assert loaded.positions.value(("trigger", "filter")).col == 11


def test_unknown_field_with_suggestion_and_missing_field():
    errors = errors_of("typo_field")
    assert [where(e) for e in errors] == [("typo_field.yaml", 6, 5), ("typo_field.yaml", 9, 5)]
    assert errors[0].message == "send node 'apology' needs 'template'"
    assert errors[1].message == (
        "send node 'apology' has an unknown field 'tempalte' — did you mean 'template'?"
    )


def test_bad_duration_points_at_the_value():
    (error,) = errors_of("bad_duration")
    assert where(error) == ("bad_duration.yaml", 8, 15)
    assert "'3 dayz' is not a duration: write e.g. '3d'" in error.message
    assert error.message.startswith("wait node 'pause'")


def test_wait_needs_one_kind():
    (error,) = errors_of("wait_kinds")
    assert where(error) == ("wait_kinds.yaml", 6, 5)
    assert error.message == (
        "wait node 'w1' needs exactly one of 'duration', 'until' or 'business_days'"
    )


def test_unknown_node_type():
    (error,) = errors_of("bad_type")
    assert where(error) == ("bad_type.yaml", 7, 11)
    assert "did you mean 'send'?" in error.message


def test_duplicate_key():
    (error,) = errors_of("duplicate_key")
    assert where(error) == ("duplicate_key.yaml", 10, 5)
    assert error.message == "'next' appears twice here (first on line 9)"


def test_yaml_syntax_error_points_at_the_unclosed_bracket():
    (error,) = errors_of("yaml_syntax")
    assert where(error) == ("yaml_syntax.yaml", 8, 15)
    assert error.message.startswith("YAML syntax:")


def test_all_errors_of_a_file_are_reported(tmp_path: Path):
    path = tmp_path / "many.yaml"
    path.write_text(
        "name: many\ntrigger: {event: x, filtr: y}\nsubject: orders\nnodes:\n"
        "  - {id: a, type: wait, duration: 2 weks, next: b}\n"
        "  - {id: a, type: exit, reason: 3}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecErrors) as info:
        load_journey(path)
    got = {(e.line, e.col) for e in info.value.errors}
    assert got == {(2, 21), (3, 10), (5, 35), (6, 10), (6, 33)}
    text = str(info.value)
    assert "did you mean 'filter'?" in text
    assert "node id 'a' is used twice" in text
    assert "'orders' is not a valid subject — did you mean 'order'?" in text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("- 1\n- 2\n", "list"),
        ("a: &a [*a, *a]\n", "subject"),
        ("name: x\nname: y\n", "appears twice"),
        ("a: b: c\n", "quotes"),
        ("name: 1" + "0" * 5000 + "\n", "far too long"),
        ("name: x\nwait: -_\n", "odd.yaml:2:7: error: this value reads as a number without digits"),
        ("\x00", "not allowed"),
        ("x: !!python/object:os.system y\n", "tags"),
    ],
)
def test_odd_files_give_spec_errors(tmp_path: Path, text: str, words: str):
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecErrors) as info:
        load_journey(path)
    assert words in str(info.value)


def test_alias_bomb_is_bounded(tmp_path: Path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SpecErrors) as info:
        load_journey(tmp_path / "bomb.yaml")
    assert "expands to more than" in str(info.value)


def test_binary_and_huge_durations(tmp_path: Path):
    (tmp_path / "bin.yaml").write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(SpecErrors, match="not UTF-8"):
        load_journey(tmp_path / "bin.yaml")
    (tmp_path / "huge.yaml").write_text(
        "name: huge\ntrigger: {event: x}\nsubject: order\nnodes:\n"
        "  - {id: w, type: wait, duration: 99999999999999w, next: w}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecErrors) as info:
        load_journey(tmp_path / "huge.yaml")
    assert [e.line for e in info.value.errors] == [5]


def test_load_journeys_by_name(tmp_path: Path):
    (tmp_path / "good.yaml").write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    assert list(load_journeys(tmp_path)) == ["good"]
    (tmp_path / "bad.yml").write_text("name: [\n", encoding="utf-8")
    with pytest.raises(SpecErrors):
        load_journeys(tmp_path)


def test_error_format_is_compiler_like():
    (error,) = errors_of("bad_duration")
    lines = error.format().splitlines()
    assert lines[0].endswith("bad_duration.yaml:8:15: error: " + error.message)
    assert lines[1] == "  8 |     duration: 3 dayz"
    assert lines[2] == "    |               ^"

"""Whatever the file holds, the loader and the checks only ever report SpecErrors."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.language.checks import validate_paths
from journeykit.language.errors import SpecErrors
from journeykit.language.loading import load_journey
from tests.language.conftest import ACTIONS, AUDIENCES, GOOD, TEMPLATES

GOOD_LINES = GOOD.read_text(encoding="utf-8").splitlines()
SNIPPETS = [
    "next: nowhere", "type: sned", "duration: 999999999999w", "- *a", "&a [1]", "{", "]", ":",
    "  ", "\t", "'", '"', "<<: *x", "!!binary x", "timeout: 0s", "next: check", "id: Check",
    "template: ../../etc", "1e999", "null", "~", "- - -", "when: '{{'", "? [a]",
]  # fmt: skip


@st.composite
def mutated_journeys(draw: st.DrawFn) -> str:
    lines = list(GOOD_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "insert", "indent"]))
        if action == "delete" and len(lines) > 1:
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "replace":
            head = lines[index][: draw(st.integers(0, len(lines[index])))]
            lines[index] = head + draw(st.sampled_from(SNIPPETS) | st.text(max_size=12))
        elif action == "insert":
            lines.insert(index, "    " + draw(st.sampled_from(SNIPPETS)))
        else:
            lines[index] = " " * draw(st.integers(0, 6)) + lines[index].lstrip()
    return "\n".join(lines) + "\n"


def _check(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "good.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_journey(path)
        except SpecErrors as exc:
            assert exc.errors
            assert all(e.format() for e in exc.errors)
        found = validate_paths(
            [path], templates_dir=TEMPLATES, known_actions=ACTIONS, known_audiences=AUDIENCES
        )
        assert not [e for e in found if "internal error" in e.message]


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str):
    _check(text)


@FUZZ
@given(mutated_journeys())
def test_mutated_journey(text: str):
    _check(text)

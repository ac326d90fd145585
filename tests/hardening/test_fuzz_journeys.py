"""Hostile journey files against the loader and validator: the shipped journeys mutated as
YAML trees (values swapped for other types, keys dropped or invented, lists blown up) and as
text, plus known YAML traps (alias bombs, deep nesting, NUL bytes, huge scalars). Only clear
SpecErrors come back — with the file, and a line whenever the text has one — never a
traceback, a hang (SIGALRM guard) or an internal error."""

from __future__ import annotations

import io
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from journeykit.foundation.settings import PROJECT_ROOT
from journeykit.language.checks import validate_paths
from journeykit.language.errors import SpecError, SpecErrors
from journeykit.language.loading import load_journey
from journeykit.service.registry_loader import project_registry

SHIPPED = sorted((PROJECT_ROOT / "journeys").glob("*.yaml"))
TEMPLATES = PROJECT_ROOT / "templates"
SECONDS = 20
TRAPS = [
    "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nname: bomb\n",
    "name: deep\nnodes: " + "[" * 5000 + "]" * 5000 + "\n",
    "name: deep\nnodes:\n" + "".join("  " * i + "- \n" for i in range(300)),
    "name: nul\x00\nnodes: []\n",
    "\ufeffname: bom\r\ntrigger: {event: order.placed}\r\nnodes: []\r\n",
    "name: " + "x" * 200_000 + "\n",
    "name: huge\nsettings: {n: " + "9" * 5000 + "}\n",
    "name: n\nnodes:\n  - {id: a, type: wait, duration: 99999999999999999999d, next: a}\n",
    "!!python/object/apply:os.system ['echo pwned']\n",
    "name: !!python/name:os.system\n",
    "--- !!binary |\n  R0lGODlhDAAMAIQAAP//9/X17unp5WZmZgAAAOfn515eXvPz7Y6OjuDg4J\n",
    "name: x\n" * 2000,
]
RANDOM_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


class Hang(Exception):
    pass


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    def alarm(_signum: int, _frame: object) -> None:
        raise Hang(f"no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _validate(text: str, name: str = "hostile.yaml") -> list[SpecError]:
    with tempfile.TemporaryDirectory() as folder, deadline(SECONDS):
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_journey(path)
        except SpecErrors as exc:
            assert exc.errors and all(e.path == str(path) for e in exc.errors)
        errors = validate_paths(
            [path],
            templates_dir=TEMPLATES,
            known_actions=project_registry().action_names(),
            known_audiences=project_registry().audience_names(),
        )
    for e in errors:
        assert isinstance(e, SpecError)
        assert "internal error" not in e.message and "Traceback" not in e.format()
        assert e.format().startswith(e.location)
    return errors


def _dump(data: Any) -> str:
    out = io.StringIO()
    YAML(typ="safe").dump(data, out)
    return out.getvalue()


@st.composite
def mutated_trees(draw: st.DrawFn) -> str:
    data = YAML(typ="safe").load(draw(st.sampled_from(SHIPPED)).read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 5))):
        node: Any = data
        while isinstance(node, dict | list) and node and draw(st.booleans()):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            child = node[draw(st.sampled_from(keys))]
            if not isinstance(child, dict | list) or not child:
                break
            node = child
        if isinstance(node, dict) and node:
            key = draw(st.sampled_from(list(node)))
            action = draw(st.sampled_from(["replace", "delete", "invent"]))
            if action == "replace":
                node[key] = draw(RANDOM_VALUES)
            elif action == "delete":
                del node[key]
            else:
                node[draw(st.text(min_size=1, max_size=10))] = draw(RANDOM_VALUES)
        elif isinstance(node, list) and node:
            index = draw(st.integers(0, len(node) - 1))
            if draw(st.booleans()):
                node[index] = draw(RANDOM_VALUES)
            else:
                node.extend([node[index]] * draw(st.integers(1, 50)))
    return _dump(data)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(mutated_trees())
def test_mutated_shipped_journeys(text: str) -> None:
    _validate(text)


@FUZZ
@given(st.sampled_from(SHIPPED), st.integers(0, 10_000), st.binary(max_size=40))
def test_shipped_journey_with_bytes_spliced_in(path: Path, at: int, junk: bytes) -> None:
    text = path.read_text(encoding="utf-8")
    at = at % (len(text) + 1)
    _validate(text[:at] + junk.decode("utf-8", "surrogateescape") + text[at:])


def test_known_yaml_traps_are_clear_errors() -> None:
    for trap in TRAPS:
        errors = _validate(trap)
        assert [e for e in errors if e.is_error], f"accepted: {trap[:60]!r}"


def test_shipped_journeys_still_validate() -> None:
    for path in SHIPPED:
        assert not [e for e in _validate(path.read_text(encoding="utf-8"), path.name) if e.is_error]

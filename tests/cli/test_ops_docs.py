"""docs/ops.md and README's Ops section work literally: every ``journeys ...`` command (and
its options) they name exists, every JOURNEYKIT_* and PREFECT_* variable is a real setting,
and the number of deployments they state is what prefect.yaml holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import prefect.settings
import pytest
import typer.main

from journeykit.cli.app import app
from journeykit.cli.deploy import deployments
from journeykit.cli.report import JourneyOrCommand
from journeykit.foundation.settings_reference import reference

ROOT = Path(__file__).parents[2]


def ops_texts() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Ops**")
    ops = readme[start : readme.index("**Developers**", start)]
    return {"docs/ops.md": (ROOT / "docs" / "ops.md").read_text(encoding="utf-8"), "README": ops}


def code_of(text: str) -> str:
    """The fenced blocks and the inline code spans, one a line (spans joined across lines)."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", text, re.M | re.S)
    prose = re.sub(r"^```[a-z]*\n.*?^```", "", text, flags=re.M | re.S)
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return "\n".join(blocks + spans)


def commands_named(text: str) -> list[list[str]]:
    """Each ``journeys a b --c`` in the code of the text: the words up to the end of the line."""
    found = []
    code = code_of(text)
    for match in re.finditer(r"(?:^|[\s/$(])journeys ((?:[\w.|#-]+ ?)+)", code, re.M):
        words = match.group(1).split()
        if words and re.fullmatch(r"[a-z][a-z-]*", words[0]):
            found.append(words)
    return found


def resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The command the words name and the options given to it; fails on an unknown one.
    (typer vendors its own click: a group is what has ``commands``.)"""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        found = command.commands.get(rest[0])
        if found is None:
            assert isinstance(command, JourneyOrCommand) and command.name != "journeys", (
                f"`journeys {' '.join(words)}`: no command {rest[0]!r}"
            )
            break
        command, rest = found, rest[1:]
    return command, [w for w in rest if w.startswith("--")]


@pytest.mark.parametrize("name", ["docs/ops.md", "README"])
def test_every_journeys_command_the_ops_docs_name_exists(name) -> None:
    named = commands_named(ops_texts()[name])
    assert len(named) >= 5
    for words in named:
        command, options = resolve(words)
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for option in options:
            assert option.split("=")[0] in known, f"`journeys {' '.join(words)}`: no {option}"


def test_the_story_commands_are_documented() -> None:
    named = {w[0] for text in ops_texts().values() for w in commands_named(text)}
    assert {"customer", "order", "status", "deploy", "serve", "sandbox", "db"} <= named


@pytest.mark.parametrize("name", ["docs/ops.md", "README"])
def test_every_variable_the_ops_docs_name_is_real(name) -> None:
    text = ops_texts()[name]
    ours = set(re.findall(r"JOURNEYKIT_[A-Z0-9_]+", text))
    documented = set(re.findall(r"`(JOURNEYKIT_[A-Z0-9_]+)`", reference()))
    assert ours - documented == set()
    for variable in set(re.findall(r"PREFECT_[A-Z0-9_]+", text)):
        assert hasattr(prefect.settings, variable), variable
    if name == "README":
        assert "PREFECT_API_URL" in text and "JOURNEYKIT_WEB__EVENT_DELIVERY" in text


def test_deployment_counts_match_prefect_yaml() -> None:
    listed = deployments(ROOT / "prefect.yaml")
    text = ops_texts()["docs/ops.md"]
    counts = [int(n) for n in re.findall(r"registered (\d+) deployments", text)]
    assert counts and set(counts) == {len(listed)}
    names = {d["name"] for d in listed}
    for flow_and_deployment in re.findall(r"prefect deployment run ([\w-]+/[\w-]+)", text):
        assert flow_and_deployment.split("/")[1] in names

"""The CLI reads as one tool: every database option is ``--database-url``, help texts name
no requirement ids (they are the brief's, not the user's), one option style (Annotated),
and the product registers only its own commands (the rigs come through the entry point)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from journeykit.cli.app import COMMAND_MODULES, app

ROOT = Path(__file__).parents[2]
REQUIREMENT_ID = re.compile(r"\b[RBCDP][0-9]\b")


def commands(group: Any, path: str = "journeys") -> Iterator[tuple[str, Any]]:
    """Every command and group under ``group`` (typer ships its own click)."""
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from commands(sub, f"{path} {name}")


def test_database_options_are_named_alike_and_help_has_no_requirement_ids() -> None:
    seen = 0
    for path, command in commands(typer.main.get_command(app)):
        texts = [command.help or "", command.short_help or ""]
        for param in command.params:
            texts.append(getattr(param, "help", None) or "")
            for opt in param.opts:
                assert opt not in ("--database", "--url", "--db"), f"{path}: {opt}"
                seen += opt == "--database-url"
        for text in texts:
            assert not REQUIREMENT_ID.search(text), f"{path}: {text!r}"
    assert seen >= 10


def test_one_option_style() -> None:
    """Parameters are ``name: Annotated[T, typer.Option(...)] = default``, never a
    ``typer.Option`` as the default value."""
    for path in [
        *ROOT.glob("journeykit/cli/*.py"),
        *ROOT.glob("rigs/journeykit_rigs/commands/*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.arguments):
                for default in [*node.defaults, *node.kw_defaults]:
                    is_typer = (
                        isinstance(default, ast.Call)
                        and isinstance(default.func, ast.Attribute)
                        and default.func.attr in ("Option", "Argument")
                    )
                    assert not is_typer, f"{path.name}:{default.lineno}"  # type: ignore[union-attr]


def test_the_product_lists_only_its_own_command_modules() -> None:
    assert all(name.startswith("journeykit.cli.") for name in COMMAND_MODULES)

"""Fixture journeys and templates for the spec tests, and a helper to validate one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.language.checks import validate_paths
from journeykit.language.errors import SpecError

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATES = FIXTURES / "templates"
BROKEN = FIXTURES / "broken"
GOOD = FIXTURES / "journeys" / "good.yaml"
ACTIONS = frozenset({"issue_store_credit", "cancel_order"})
AUDIENCES = frozenset({"restock_signups"})


def validate(path: Path) -> list[SpecError]:
    return validate_paths(
        [path], templates_dir=TEMPLATES, known_actions=ACTIONS, known_audiences=AUDIENCES
    )


def where(error: SpecError) -> tuple[str, int, int]:
    """(file name, line, col) of an error."""
    return Path(error.path).name, error.line, error.col


@pytest.fixture
def broken():
    """Validate ``broken/<case>.yaml``; returns its errors and warnings."""
    return lambda case: validate(BROKEN / f"{case}.yaml")

"""Fixtures of the hostile-input tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from journeykit.foundation.settings import PROJECT_ROOT


@pytest.fixture
def templates(tmp_path: Path) -> Path:
    """A copy of ``templates/`` to plant payloads in (see shipped_templates.inject)."""
    root = tmp_path / "templates"
    shutil.copytree(PROJECT_ROOT / "templates", root)
    return root

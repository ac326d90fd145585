"""The runtime's renderer takes its template limits from the runtime's own settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.settings import Settings
from journeykit.templating.errors import TemplateRenderError
from journeykit.timing.clock import VirtualClock


def runtime_with(tmp_path: Path, **templates: object) -> Runtime:
    (tmp_path / "t").mkdir(exist_ok=True)
    (tmp_path / "t" / "note.en.sms.txt").write_text("{{ 'x' * 500 }}")
    changes = {f"templates.{name}": value for name, value in templates.items()}
    config = Settings().with_changes({"templates.dir": tmp_path / "t", **changes})
    return Runtime(create_engine("sqlite://"), VirtualClock(), JourneyBook({}), config)


def test_the_sms_limit_comes_from_the_runtime_settings(tmp_path: Path) -> None:
    roomy = runtime_with(tmp_path).get_renderer().render_sms("note", "en", {})
    assert roomy.body == "x" * 500
    tight = runtime_with(tmp_path, max_sms_chars=100)
    with pytest.raises(TemplateRenderError, match="100"):
        tight.get_renderer().render_sms("note", "en", {})

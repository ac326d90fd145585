"""Bad settings in the environment stop any ``journeys`` command with one clear line per
problem, naming the variable, and never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.foundation.settings_reference import reference

JOURNEYS = [sys.executable, "-c", "from journeykit.cli.app import main; main()"]


def run(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYKIT_")}
    return subprocess.run(
        [*JOURNEYS, "status"], env={**clean, **env}, cwd=tmp_path,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_production_with_placeholder_secrets_is_refused(tmp_path: Path) -> None:
    done = run({"JOURNEYKIT_ENVIRONMENT": "production"}, tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "refuses placeholder secrets" in done.stderr and "JOURNEYKIT_WEB__API_KEY" in done.stderr


def test_a_malformed_value_names_its_variable(tmp_path: Path) -> None:
    done = run({"JOURNEYKIT_SCALE__BATCH_SIZE": "lots"}, tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "JOURNEYKIT_SCALE__BATCH_SIZE" in done.stderr and "lots" not in done.stderr


def test_a_nested_value_outside_its_choices_names_its_variable(tmp_path: Path) -> None:
    done = run({"JOURNEYKIT_WEB__EVENT_DELIVERY": "carrier-pigeon"}, tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        "JOURNEYKIT_WEB__EVENT_DELIVERY" in done.stderr
        and "'inline', 'prefect' or 'worker'" in done.stderr
    )


def test_a_variable_of_the_flat_names_stops_with_its_new_name(tmp_path: Path) -> None:
    """A production URL set the old way would otherwise be ignored for the SQLite default."""
    done = run({"JOURNEYKIT_DATABASE_URL": "sqlite:///elsewhere.db"}, tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "JOURNEYKIT_DATABASE_URL to JOURNEYKIT_DATABASE__URL" in done.stderr


def test_nested_variables_reach_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEYKIT_DATABASE__URL", "sqlite:///x.db")
    monkeypatch.setenv("JOURNEYKIT_PROVIDERS__TWILIO__AUTH_TOKEN", "t0ken")
    monkeypatch.setenv("JOURNEYKIT_SENDING__QUIET_HOURS_BY_COUNTRY", '{"FR": "20:00-10:00"}')
    monkeypatch.setenv("JOURNEYKIT_ENVIRONMENT", " Development ")
    settings = Settings()
    assert settings.database.url == "sqlite:///x.db"
    assert settings.providers.twilio.auth_token.get_secret_value() == "t0ken"
    assert settings.sending.quiet_hours_by_country == {"FR": "20:00-10:00"}
    assert settings.environment == "development"


def test_with_changes_validates_and_refuses_unknown_paths() -> None:
    settings = Settings().with_changes({"web.event_delivery": "prefect", "scale.batch_size": 7})
    assert (settings.web.event_delivery, settings.scale.batch_size) == ("prefect", 7)
    with pytest.raises(ValidationError):
        settings.with_changes({"web.event_delivery": "later"})
    with pytest.raises(KeyError):
        settings.with_changes({"web.event_deliveries": "inline"})
    with pytest.raises(ValidationError):  # a flat name of before the nesting
        Settings(database_url="sqlite:///x.db")  # type: ignore[call-arg]


def test_docs_settings_md_lists_every_setting_as_the_model_says() -> None:
    written = (PROJECT_ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert written == reference(), (
        "docs/settings.md is stale: python -m journeykit.foundation.settings_reference "
        "> docs/settings.md"
    )


def test_model_copy_refuses_a_name_that_is_not_a_setting() -> None:
    """``model_copy(update=...)`` does not validate: a pre-nesting name would be kept as a
    stray attribute and the demo would talk to the wrong address (CI hung on exactly that)."""
    base = Settings()
    with pytest.raises(KeyError, match="sendgrid_base_url"):
        base.model_copy(update={"sendgrid_base_url": "http://127.0.0.1:1"})
    changed = base.with_changes({"providers.sendgrid.base_url": "http://127.0.0.1:1"})
    assert changed.providers.sendgrid.base_url == "http://127.0.0.1:1"
    assert base.model_copy(update={"environment": "test"}).environment == "test"

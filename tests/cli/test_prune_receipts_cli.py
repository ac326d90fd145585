"""``journeys db prune-receipts [--older-than-hours H]`` on a real migrated SQLite file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import ApiReceipt
from journeykit.timing.clock import SystemClock
from journeykit.web.store_events import keep_receipt


def seeded(tmp_path: Path, ages_h: list[int]) -> str:
    url = f"sqlite:///{tmp_path}/r.db"
    upgrade(url)
    engine = make_engine(url)
    now = SystemClock().now()
    with session_scope(engine) as session:
        for n, age in enumerate(ages_h):
            keep_receipt(session, f"api:{age}h:{n}", "h", {}, now - timedelta(hours=age))
    engine.dispose()
    return url


def keys(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        found = sorted(r.key for r in session.exec(select(ApiReceipt)).all())
    engine.dispose()
    return found


def test_default_retention_is_72_hours(cli, tmp_path: Path) -> None:
    url = seeded(tmp_path, [200, 100, 24, 1])
    result = cli("db", "prune-receipts", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert "deleted 2 receipts older than 72 h" in result.output
    assert keys(url) == ["api:1h:3", "api:24h:2"]


def test_older_than_hours_overrides(cli, tmp_path: Path) -> None:
    url = seeded(tmp_path, [200, 100, 24, 1])
    result = cli("db", "prune-receipts", "--older-than-hours", "12", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert "deleted 3 receipts older than 12 h" in result.output
    assert keys(url) == ["api:1h:3"]


def test_bad_values_and_unmigrated_databases_are_clear_errors(cli, tmp_path: Path) -> None:
    url = seeded(tmp_path, [200])
    zero = cli("db", "prune-receipts", "--older-than-hours", "0", "--database-url", url)
    assert zero.exit_code == 2 and "--older-than-hours" in zero.output
    empty = cli("db", "prune-receipts", "--database-url", f"sqlite:///{tmp_path}/empty.db")
    assert empty.exit_code == 1 and "journeys db upgrade" in empty.output
    assert "Traceback" not in zero.output + empty.output
    assert keys(url) == ["api:200h:0"]

"""A worker's PostgreSQL connection pool follows the settings (docs/production.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from journeykit.foundation.db import engine_for
from journeykit.foundation.settings import get_settings

URL = "postgresql+psycopg://journeykit@127.0.0.1:1/pool_settings"  # never connected to


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    engine_for.cache_clear()
    yield
    get_settings.cache_clear()
    engine_for.cache_clear()


def test_pool_size_overflow_and_timeout_come_from_settings(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> None:
    monkeypatch.setenv("JOURNEYKIT_DATABASE__POOL_SIZE", "3")
    monkeypatch.setenv("JOURNEYKIT_DATABASE__MAX_OVERFLOW", "2")
    monkeypatch.setenv("JOURNEYKIT_DATABASE__POOL_TIMEOUT_SECONDS", "7.5")
    pool = engine_for(URL).pool
    assert pool.size() == 3  # type: ignore[attr-defined]
    assert pool._max_overflow == 2  # type: ignore[attr-defined]
    assert pool._timeout == 7.5  # type: ignore[attr-defined]


def test_sqlite_keeps_its_own_pool(fresh_settings: None, tmp_path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path}/x.db")
    assert engine.dialect.name == "sqlite"

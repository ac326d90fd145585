"""Test-wide setup: an isolated Prefect home with analytics off and a generous ephemeral
server start-up timeout (a fresh PREFECT_HOME can take 15–20 s), set before Prefect loads."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_PREFECT_HOME = Path(
    os.environ.get("JOURNEYKIT_TEST_PREFECT_HOME", tempfile.mkdtemp(prefix="jk-prefect-"))
)
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("JOURNEYKIT_WEB__SIGNING_SECRET", "test-signing-secret")

from collections.abc import Iterator  # noqa: E402
from itertools import count  # noqa: E402

import pytest  # noqa: E402

from tests.support.postgres import PostgresServer, available, postgres_server  # noqa: E402

_databases = count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server per test process (started on first use)."""
    if not available():
        pytest.fail("PostgreSQL 15 server binaries are missing (Debian package postgresql-15)")
    with postgres_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres.create_database(f"test_{os.getpid()}_{next(_databases)}")

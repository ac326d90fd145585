"""A batch run through Prefect with recognisable secrets — provider keys, signing and webhook
secrets — including provider errors: none of the secrets appears in any log record (at DEBUG,
every logger), any Prefect artifact or run state, any database row, or any message sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from journeykit_rigs.chaos.workload import seed_restock_wave
from prefect.client.orchestration import get_client

from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.orchestration.flows import sweep
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import build_runtime, use_runtime
from journeykit.timing.clock import VirtualClock

SECRETS = {
    "providers.sendgrid.api_key": "SG.secretSENDGRID7f3a9e",
    "providers.twilio.auth_token": "secretTWILIO91b2c4d8",
    "web.signing_secret": "secretSIGNING55d0e1f2",
    "web.api_key": "secretAPIKEY3c1e8a7b",
    "providers.shopify.webhook_secret": "secretSHOPIFY0a9b8c7d",
}


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def all_logs() -> Iterator[Everything]:
    handler = Everything()
    names = ["", "prefect", "twilio", "sendgrid", "python_http_client", "httpx", "uvicorn"]
    loggers = [logging.getLogger(n) for n in names] + [
        logging.getLogger(n) for n in list(logging.root.manager.loggerDict)
    ]
    saved = [(lg, lg.level) for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for lg, level in saved:
            lg.removeHandler(handler)
            lg.setLevel(level)


def _leaks(text: str) -> list[str]:
    return [name for name, value in SECRETS.items() if value in text]


@pytest.mark.prefect
def test_no_secret_in_logs_artifacts_rows_or_messages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/secrets.db"
    upgrade(url)
    base = Settings().with_changes({"database.url": url, **SECRETS})
    with SandboxServer.from_settings(base) as box, all_logs() as logs:
        box.faults.script("500", "429")  # provider errors on the way: their paths log too
        settings = base.with_changes(
            {"providers.sendgrid.base_url": box.url, "providers.twilio.base_url": box.url}
        )
        clock = VirtualClock()
        book = JourneyBook.from_dir(PROJECT_ROOT / "journeys")
        runtime = build_runtime(
            settings, engine=make_engine(url), clock=clock, book=book, owner="secrets"
        )
        clock.set(seed_restock_wave(runtime.engine, book, 4))
        use_runtime(lambda: runtime)
        try:
            first = asyncio.run(sweep())
            # The retries: the emails share one request, which meets one scripted fault in
            # each of the first two sweeps.
            sent_later = 0
            for _ in range(2):
                clock.set(clock.now().add(minutes=15))
                sent_later += asyncio.run(sweep())["sent"]
        finally:
            use_runtime(None)
            runtime.engine.dispose()
        sent = box.store.messages()
    assert first["claimed"] == 4, first
    assert sent and first["sent"] + sent_later == len(sent), (first, sent_later)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
        runs = client.read_flow_runs()
        tasks = client.read_task_runs()
    assert artifacts, "the sweep publishes artifacts"
    assert logs.lines, "the run logged"
    assert [line[:300] for line in logs.lines if _leaks(line)] == []
    assert _leaks("\n".join(f"{a.data} {a.description}" for a in artifacts)) == []
    states = [f"{r.state.message if r.state else ''}" for r in [*runs, *tasks]]
    assert _leaks("\n".join(states)) == []
    database = (tmp_path / "secrets.db").read_bytes().decode("utf-8", "replace")
    wal = tmp_path / "secrets.db-wal"
    if wal.exists():
        database += wal.read_bytes().decode("utf-8", "replace")
    assert _leaks(database) == []
    assert _leaks("\n".join(f"{m.raw} {m.html} {m.text} {m.body}" for m in sent)) == []

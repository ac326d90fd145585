"""``journeys emit`` stores events in the inbox (no key: a new event each time);
``journeys status`` shows the events that failed for good; ``journeys events list`` and
``journeys events replay ID`` put one back in line once what it needed has arrived."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.foundation.db import make_engine, session_scope
from journeykit.foundation.models import DomainEvent, InboxEvent
from journeykit.foundation.settings import get_settings
from journeykit.service.runtime_factory import use_runtime

SOFA = {"product": {"sku": "SOFA-GREY", "handle": "sofa", "title": "Sofa", "price_cents": 9900}}
ORDER = {
    "customer": {"id": "C-9", "email": "ana@example.com"},
    "order": {"number": "9001", "lines": [{"sku": "SOFA-GREY", "quantity": 1}]},
}
DELAYED = {"order_number": "9001", "reason": "The truck broke down."}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/fresh/journeykit.db"
    monkeypatch.setenv("JOURNEYKIT_DATABASE__URL", url)
    get_settings.cache_clear()
    use_runtime(None)
    yield url
    get_settings.cache_clear()
    use_runtime(None)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), terminal_width=200)
    return result.exit_code, result.output


def emit(event: str, data: dict[str, object], *extra: str) -> tuple[int, str]:
    return run("emit", event, "--data", json.dumps(data), "--no-run", *extra)


def test_failed_event_is_shown_and_replayed(database: str) -> None:
    code, out = emit("order.delayed", DELAYED)
    assert code == 0 and "unknown order" in out, out
    engine = make_engine(database)
    with session_scope(engine) as session:  # as if every retry had failed
        session.execute(update(InboxEvent).values(status="failed", attempts=8))
    code, out = run("status")
    assert code == 0, out
    assert "1 failed" in out and "order.delayed" in out and "order:9001" in out
    assert "journeys events replay ID" in out
    code, out = run("events", "list")
    assert code == 0 and "order:9001" in out
    assert emit("product.upserted", SOFA)[0] == 0
    assert emit("order.placed", ORDER)[0] == 0
    with Session(engine) as session:
        [failed] = session.exec(select(InboxEvent).where(InboxEvent.status == "failed")).all()
    code, out = run("events", "replay", str(failed.id))
    assert code == 0 and "'applied': 1" in out, out
    with Session(engine) as session:
        types = session.exec(select(DomainEvent.type).order_by(DomainEvent.id)).all()
    assert types == ["product.upserted", "order.placed", "order.delayed"]
    code, out = run("events", "replay", str(failed.id))
    assert code == 1 and "applied already" in out


def test_the_same_event_without_a_key_is_stored_twice(database: str) -> None:
    assert emit("product.upserted", SOFA)[0] == 0
    assert emit("product.upserted", SOFA)[0] == 0
    code, out = emit("product.upserted", SOFA, "--key", "k1")
    assert code == 0 and "'duplicate': False" in out
    code, out = emit("product.upserted", SOFA, "--key", "k1")
    assert code == 0 and "'duplicate': True" in out
    with Session(make_engine(database)) as session:
        assert len(session.exec(select(InboxEvent)).all()) == 3

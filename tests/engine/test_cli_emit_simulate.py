"""The engine's own commands: ``journeys emit`` (the CLI door for domain events) and
``journeys simulate --json`` (the timeline format the engine issue fixes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import DomainEvent, Enrollment
from journeykit.foundation.settings import get_settings
from journeykit.service.runtime_factory import use_runtime

ROOT = Path(__file__).parents[2]
ORDER = {
    "customer": {"id": "C-9", "email": "ana@example.com", "timezone": "Europe/Lisbon"},
    "order": {
        "number": "9001",
        "lines": [{"sku": "SOFA-GREY", "quantity": 1}],
        "is_backorder": True,
    },
}
SOFA = {
    "product": {
        "sku": "SOFA-GREY",
        "handle": "sofa",
        "title": "Sofa",
        "inventory": 0,
        "price_cents": 9900,
    }
}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/fresh/journeykit.db"  # not migrated: the CLI does it
    monkeypatch.setenv("JOURNEYKIT_DATABASE__URL", url)
    get_settings.cache_clear()
    use_runtime(None)
    yield url
    get_settings.cache_clear()
    use_runtime(None)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_emit_enrolls_and_is_recorded_once(database: str) -> None:
    assert run("emit", "product.upserted", "--data", json.dumps(SOFA), "--no-run")[0] == 0
    code, out = run("emit", "order.placed", "--data", json.dumps(ORDER), "--key", "k1", "--no-run")
    assert code == 0, out
    assert "'enrolled': " in out and "'enrolled': 0" not in out
    code, out = run("emit", "order.placed", "--data", json.dumps(ORDER), "--key", "k1", "--no-run")
    assert code == 0 and "'duplicate': True" in out
    with Session(make_engine(database)) as session:
        assert len(session.exec(select(DomainEvent).where(DomainEvent.key == "k1")).all()) == 1
        assert session.exec(select(Enrollment)).all()


def test_emit_rejects_bad_input_and_writes_nothing(database: str) -> None:
    code, out = run("emit", "order.teleported", "--data", "{}", "--no-run")
    assert code == 1 and "unknown event type" in out and "order.placed" in out
    code, out = run("emit", "order.placed", "--data", "{not json", "--no-run")
    assert code == 1 and "--data" in out
    code, out = run("emit", "order.placed", "--data", json.dumps({"order": {}}), "--no-run")
    assert code == 1 and "customer: Field required" in out and "Traceback" not in out
    db_file = Path(database.removeprefix("sqlite:///"))
    if db_file.exists():
        with Session(make_engine(database)) as session:
            assert session.exec(select(DomainEvent)).all() == []


def test_simulate_json_is_the_documented_timeline() -> None:
    scenario = ROOT / "tests" / "scenarios" / "D3_offer_expires_before_next_email.yaml"
    code, out = run("simulate", "--scenario", str(scenario), "--json")
    assert code == 0, out
    timeline = json.loads(out)
    assert timeline and all(
        set(entry) >= {"at", "kind", "node", "channel", "template"} for entry in timeline
    )
    assert {entry["kind"] for entry in timeline} <= {"send", "action", "exit"}
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)  # one zone here
    assert timeline[0]["at"].endswith("+09:00")  # the customer's own zone (Asia/Seoul)
    first_send = next(e for e in timeline if e["kind"] == "send")
    assert first_send["channel"] in ("email", "sms") and first_send["template"]


def test_simulate_reports_a_broken_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("journey: delay_apology\nevents: []\n")
    code, out = run("simulate", "--scenario", str(bad))
    assert code == 1 and "bad.yaml" in out and "Traceback" not in out

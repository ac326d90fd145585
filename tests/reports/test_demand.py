"""R4: `journeys report demand` ranks out-of-stock variants by shoppers waiting."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.foundation.db import make_engine
from journeykit.reports.demand import demand_report
from tests.reports.conftest import SCENARIOS, fill_database

runner = CliRunner()


def test_most_requested_first_with_channels_and_oldest(played: Callable[..., str]) -> None:
    url = played("R4_demand_report")
    engine = make_engine(url)
    with Session(engine) as session:
        report = demand_report(session)
    engine.dispose()
    assert [(r.sku, r.shoppers, r.email, r.sms) for r in report.rows] == [
        ("SWIM-ONE-S", 4, 4, 1),
        ("SUN-AVIATOR-GOLD", 2, 1, 1),
        ("JACKET-PARKA-L", 1, 1, 0),
    ]
    assert report.shoppers == 6 and report.signups == 8 and (report.email, report.sms) == (6, 2)
    assert report.rows[0].oldest.isoformat().startswith("2026-01-05T09:00")


def test_cli_json_top_and_table(played: Callable[..., str]) -> None:
    url = played("R4_demand_report")
    result = runner.invoke(app, ["report", "demand", "--top", "2", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [v["sku"] for v in data["variants"]] == ["SWIM-ONE-S", "SUN-AVIATOR-GOLD"]
    assert data["totals"]["variants"] == 3
    table = runner.invoke(app, ["report", "demand", "--database-url", url])
    assert table.exit_code == 0
    assert "6 shoppers waiting · 8 sign-ups (email 6, SMS 2)" in table.output


def test_restocked_variant_leaves_the_list(tmp_path: Path) -> None:
    restock = tmp_path / "restock_swimsuits.yaml"
    restock.write_text(
        "journey: restock\nsubject: {sku: SWIM-ONE-S}\nstart: 2026-01-20T09:00:00Z\n"
        "events:\n  - {at: P0D, event: inventory.changed, data: {quantity: 12}}\n"
        "until: P1D\nexpect: []\n"
    )
    url = f"sqlite:///{tmp_path}/report.db"
    fill_database(url, [SCENARIOS / "R4_demand_report.yaml", restock])
    data = json.loads(
        runner.invoke(app, ["report", "demand", "--json", "--database-url", url]).output
    )
    # 12 swimsuits x 3 per unit: all four shoppers alerted, none left waiting
    assert [v["sku"] for v in data["variants"]] == ["SUN-AVIATOR-GOLD", "JACKET-PARKA-L"]


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["report", "demand", "--database-url", f"sqlite:///{tmp_path}/no.db"]
    )
    assert result.exit_code == 1
    assert "no database at" in result.output and "Traceback" not in result.output


def test_unmigrated_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    result = runner.invoke(
        app, ["report", "demand", "--database-url", f"sqlite:///{tmp_path}/empty.db"]
    )
    assert result.exit_code == 1
    assert "journeys db upgrade" in result.output

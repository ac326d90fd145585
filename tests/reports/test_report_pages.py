"""Demand's revenue waiting and trend, backorder's weekly trend, and the report pages:
`journeys report <journey|demand|backorder> --html FILE` writes one self-contained file
(no script, nothing fetched from anywhere) with the charts the issue asks for."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.foundation.db import make_engine
from journeykit.reports.backorder import backorder_report
from journeykit.reports.demand import demand_report
from journeykit.reports.page import Page, Section, Table
from journeykit.reports.report_artifact import artifact_key, page_markdown
from tests.reports.seeded_store import seed_store

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/seeded.db"
    seed_store(url)
    return url


def self_contained(html: str) -> None:
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "fetches something"
    assert "@import" not in html and "url(http" not in html


def test_demand_revenue_waiting_and_signups_per_day(store: str) -> None:
    with Session(make_engine(store)) as session:
        report = demand_report(session)
    # SUN-2: Ann (email + SMS: one shopper) and Ben at 20.00; HAT-2: Cat at 50.00;
    # SCARF-EU: Dan at 30.00 EUR
    waiting = {r.sku: (r.shoppers, r.waiting_cents, r.currency) for r in report.rows}
    assert waiting == {
        "SUN-2": (2, 4000, "USD"),
        "HAT-2": (1, 5000, "USD"),
        "SCARF-EU": (1, 3000, "EUR"),
    }
    assert report.waiting_cents == {"USD": 9000, "EUR": 3000}
    assert [r.sku for r in report.rows] == ["SUN-2", "HAT-2", "SCARF-EU"]  # most shoppers
    assert [r.sku for r in report.by_value()] == ["SCARF-EU", "HAT-2", "SUN-2"]  # per currency
    per_day = {d.isoformat(): n for d, n in report.per_day.items()}
    assert per_day == {"2026-03-02": 1, "2026-03-03": 2, "2026-03-04": 1}


def test_backorder_orders_per_week_and_cancellations(store: str) -> None:
    with Session(make_engine(store)) as session:
        report = backorder_report(session)
    # not cancelled: backorder buyers (ever on backorder: Fay D-1, Hal B-1, Ivy B-2) and the
    # others (Ann O1, Ben O2+O3, Dan O4, Cat O5, Eve O7); weeks start on Monday
    weeks = {d.isoformat(): counts for d, counts in report.per_week.items()}
    assert weeks == {
        "2026-02-09": {"backorder": 2},  # B-1, B-2 on Feb 10
        "2026-02-16": {"backorder": 1},  # D-1 on Feb 20
        "2026-03-02": {"other": 6},  # O1, O2, O3, O4, O5, O7
    }
    data = report.as_json()
    assert data["kept_vs_cancelled"]["delayed"]["cancel_rate"] == 0.5


def test_journey_page_from_the_cli(store: str, tmp_path: Path) -> None:
    out = tmp_path / "pages" / "cart.html"
    result = runner.invoke(
        app, ["report", "abandoned_cart", "--html", str(out), "--database-url", store]
    )
    assert result.exit_code == 0, result.output
    assert "What abandoned_cart earned" in result.output and "A/B verdicts" in result.output
    html = out.read_text()
    self_contained(html)
    for chart in ("funnel", "daily", "arms-second_message"):
        assert f'data-chart="{chart}"' in html
    assert html.count("<svg") == 3
    assert "$75.00 + €40.00" in html or "€40.00 + $75.00" in html  # never one sum
    assert 'data-verdict="second_message"' in html and "not enough data yet" in html
    as_json = runner.invoke(
        app, ["report", "journey", "abandoned_cart", "--json", "--database-url", store]
    )
    data = json.loads(as_json.output)
    assert data["attributed"]["revenue_cents"] == {"USD": 7500, "EUR": 4000}
    assert data["rates"]["opened_is_estimate"] is True
    assert data["ab_verdicts"][0]["arms"][1] == {
        "name": "plain",
        "customers": 2,
        "converted": 2,
        "rate": 1.0,
        "interval": [0.3424, 1.0],
    }


def test_demand_and_backorder_pages(store: str, tmp_path: Path) -> None:
    for name, charts in (
        ("demand", ("revenue-waiting", "signups-per-day")),
        ("backorder", ("kept-vs-cancelled", "orders-per-week")),
    ):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(app, ["report", name, "--html", str(out), "--database-url", store])
        assert result.exit_code == 0, result.output
        html = out.read_text()
        self_contained(html)
        assert all(f'data-chart="{c}"' in html for c in charts), name


def test_outcome_cards_and_bad_input(store: str, tmp_path: Path) -> None:
    out = tmp_path / "delay.html"
    result = runner.invoke(
        app, ["report", "delay_apology", "--html", str(out), "--database-url", store]
    )
    assert result.exit_code == 0, result.output
    assert 'data-card="apology-kept"' in out.read_text()
    blocked = tmp_path / "file"
    blocked.write_text("")
    bad = runner.invoke(
        app, ["report", "restock", "--html", str(blocked / "x.html"), "--database-url", store]
    )
    assert bad.exit_code == 1 and "cannot write" in bad.output
    unknown = runner.invoke(app, ["report", "nope", "--database-url", store])
    assert unknown.exit_code == 1 and "no journey named 'nope'" in unknown.output


def test_artifact_markdown_escapes_cells() -> None:
    page = Page("T", "sub", generated=datetime(2026, 1, 1, tzinfo=UTC))
    section = Section("s", "S")
    section.tables.append(Table("t", "cap", ["a|b"], [["sku:X|customer:Y"]]))
    page.sections.append(section)
    text = page_markdown(page)
    assert "| sku:X\\|customer:Y |" in text and "| a\\|b |" in text
    assert artifact_key("abandoned_cart") == "report-abandoned-cart"

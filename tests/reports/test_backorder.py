"""B6: `journeys report backorder` compares backorder buyers with other customers."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlmodel import Session, select
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import Customer, Order
from journeykit.reports.backorder import backorder_report

runner = CliRunner()


def test_cohorts_frequency_and_lifetime_value(played: Callable[..., str]) -> None:
    url = played("B6_backorder_buyers_report")
    engine = make_engine(url)
    with Session(engine) as session:
        report = backorder_report(session)
        tagged = {c.external_id for c in session.exec(select(Customer)) if "backorder" in c.tags}
        orders = {o.number for o in session.exec(select(Order)) if "backorder" in o.tags}
    engine.dispose()
    assert tagged == {"K-1", "K-2"} and orders == {"K-100", "K-200"}  # tagged by the journey
    bo, others = report.backorder, report.others
    assert (bo.customers, bo.orders, bo.repeat_customers) == (2, 3, 1)
    assert bo.revenue_cents == 129900 + 3200 + 18900
    assert bo.lifetime_value_cents == 76000 and bo.orders_per_customer == 1.5
    assert (others.customers, others.orders) == (2, 2)  # the cancelled order counts for nothing
    assert others.lifetime_value_cents == (2 * 3200 + 2900) // 2
    assert report.backorders == 2


def test_cli_json_and_table(played: Callable[..., str]) -> None:
    url = played("B6_backorder_buyers_report")
    result = runner.invoke(app, ["report", "backorder", "--json", "--database-url", url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["backorder_buyers"]["orders_per_customer"] == 1.5
    assert data["backorder_buyers"]["repeat_rate"] == 0.5
    assert data["other_customers"]["lifetime_value_cents"] == 4650
    table = runner.invoke(app, ["report", "backorder", "--database-url", url])
    assert table.exit_code == 0
    assert "$760.00" in table.output and "$46.50" in table.output

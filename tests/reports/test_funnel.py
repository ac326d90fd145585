"""C2/C3: `journeys report funnel JOURNEY`: per node and per A/B variant."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine
from journeykit.reports.artifact import artifact_key
from journeykit.reports.funnel import funnel_report
from tests.reports.conftest import ROOT

runner = CliRunner()


def test_ab_variants_count_sends_and_conversions(played: Callable[..., str]) -> None:
    url = played("C2_ab_split_conversion_counts")
    engine = make_engine(url)
    book = JourneyBook.from_dir(ROOT / "journeys")
    with Session(engine) as session:
        report = funnel_report(session, "abandoned_cart", book.get("abandoned_cart"))
    engine.dispose()
    assert (report.enrollments, report.converted) == (4, 2)
    variants = {(v.variant, v.enrollments, v.sent, v.converted) for v in report.variants}
    assert variants == {("offer", 2, 2, 1), ("plain", 2, 2, 1)}
    nodes = {n.node: n for n in report.nodes}
    assert [n.node for n in report.nodes][:3] == ["idle", "in_stock", "reminder_email"]
    assert (nodes["reminder_email"].entered, nodes["reminder_email"].sent) == (4, 4)
    assert nodes["reminder_sms"].suppressed == 4  # no SMS consent: never sent
    assert (nodes["discount_email"].sent, nodes["discount_email"].converted) == (2, 1)
    assert nodes["wait_last"].waited == 4 and nodes["done"].entered == 2


def test_actions_count_as_acted_and_converted(played: Callable[..., str]) -> None:
    url = played("C3_funnel_dashboard")
    result = runner.invoke(
        app, ["report", "funnel", "delay_apology", "--json", "--database-url", url]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    nodes = {n["node"]: n for n in data["nodes"]}
    assert (nodes["apology_email"]["entered"], nodes["apology_email"]["sent"]) == (3, 3)
    assert nodes["apology_sms"]["suppressed"] == 3  # no phone numbers
    assert (nodes["wait_choice"]["waited"], nodes["wait_choice"]["acted"]) == (3, 2)
    assert nodes["do_expedite"]["entered"] == 1 and nodes["do_credit"]["entered"] == 1
    assert (nodes["update"]["sent"], nodes["update"]["converted"]) == (1, 0)
    assert (data["enrollments"], data["converted"]) == (3, 2)


def test_table_and_unknown_journey(played: Callable[..., str]) -> None:
    url = played("C2_ab_split_conversion_counts")
    table = runner.invoke(app, ["report", "funnel", "abandoned_cart", "--database-url", url])
    assert table.exit_code == 0
    assert "A/B variants" in table.output and "offer" in table.output
    wrong = runner.invoke(app, ["report", "funnel", "nope", "--database-url", url])
    assert wrong.exit_code == 1 and "no journey named 'nope'" in wrong.output


@pytest.mark.parametrize(
    ("journey", "key"), [("abandoned_cart", "funnel-abandoned-cart"), ("Restock", "funnel-restock")]
)
def test_artifact_keys_are_valid(journey: str, key: str) -> None:
    assert artifact_key(journey) == key

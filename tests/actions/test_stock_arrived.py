"""B4(1) across journeys: stock arriving tells the backorder at once, and the backorder
sequence then drops its "no news yet" check-ins; a shopper in line for a back-in-stock alert
is not also nudged about the same item in their cart."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from journeykit.authoring.simulate.runner import simulate
from journeykit.authoring.simulate.scenario import Scenario
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings

ROOT = Path(__file__).parents[2]
SETTINGS = Settings().with_changes(
    {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
)


def run(text: str, tmp_path: Path) -> list[tuple[str, str, str]]:
    scenario = Scenario.model_validate(YAML(typ="safe", pure=True).load(text))
    result = simulate(
        scenario, JourneyBook.from_dir(ROOT / "journeys"), settings=SETTINGS, workdir=tmp_path
    )
    assert result.errors == []
    return [(e.kind, e.node, e.at[:10]) for e in result.timeline]


def test_backorder_hears_stock_arrived_and_no_running_late_note(tmp_path: Path) -> None:
    timeline = run(
        """
customer: {id: S-1, first_name: Ada, timezone: UTC, email: ada@example.com}
subject: {order: {number: "S-1", lines: [{sku: JACKET-PARKA-L}], ship_from: 2026-01-12T00:00:00Z,
          ship_to: 2026-01-19T00:00:00Z, is_backorder: true}}
start: 2026-01-05T09:00:00Z
events:
  - {at: P0D, event: order.placed}
  - {at: P10D, event: inventory.changed, data: {quantity: 30}}
  - {at: P35D, event: order.processing, data: {tracking_number: "1Z999"}}
until: P36D
""",
        tmp_path,
    )
    sends = [(node, day) for kind, node, day in timeline if kind == "send"]
    assert sends == [
        ("thank_you", "2026-01-05"),
        ("stock_arrived_email", "2026-01-15"),
        ("processing", "2026-02-09"),
    ]  # without the stock-arrived tag, running_late would go out on 2026-02-02


def test_cart_nudge_skips_shoppers_already_in_line_for_the_alert(tmp_path: Path) -> None:
    timeline = run(
        """
customer: {id: S-2, first_name: Bo, timezone: UTC, email: bo@example.com, consent: {email: true}}
subject: {cart: {token: s2, lines: [{sku: SWIM-ONE-S}]}}
start: 2026-01-05T09:00:00Z
events:
  - {at: P0D, event: restock.signup, data: {sku: SWIM-ONE-S}}
  - {at: PT1M, event: cart.updated}
  - {at: P2D, event: inventory.changed, data: {sku: SWIM-ONE-S, quantity: 10}}
until: P2DT1H
""",
        tmp_path,
    )
    sends = [node for kind, node, _ in timeline if kind == "send"]
    assert sends == ["alert_email"]  # the restock alert, not also the cart nudge

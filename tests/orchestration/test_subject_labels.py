"""Event runs named and tagged after their subject; the moves artifact escaped and keyed
(no Prefect server: pure functions)."""

from __future__ import annotations

from collections import Counter

from journeykit.delivery.dispatch import DispatchReport
from journeykit.engine.advance import BatchReport, Move
from journeykit.orchestration.artifacts import artifact_key, moves_key, moves_markdown
from journeykit.orchestration.rename import event_run_name, subject_tags
from tests.reports.conftest import played  # noqa: F401  (fixture)


def test_event_runs_are_named_after_their_subject() -> None:
    assert event_run_name({"type": "order.delayed", "order_number": "1042"}) == (
        "order #1042 · order.delayed"
    )
    placed = {"type": "order.placed", "order": {"number": "7"}, "customer": {"id": "C-3"}}
    assert event_run_name(placed) == "order #7 · order.placed"
    assert event_run_name({"type": "inventory.changed", "sku": "TEE-M"}) == (
        "sku TEE-M · inventory.changed"
    )
    signup = {"type": "restock.signup", "customer": {"id": "C-9", "email": "a@b.example"}}
    assert event_run_name(signup) == "customer C-9 · restock.signup"
    assert event_run_name({"type": "ticket.solved", "ticket_id": 4}) == "event · ticket.solved"


def test_event_runs_are_tagged_by_order_and_customer_never_by_address() -> None:
    placed = {
        "type": "order.placed",
        "order": {"number": "7"},
        "customer": {"id": "C-3", "email": "kenta@example.com", "phone": "+819012345678"},
    }
    assert subject_tags(placed) == ["customer:C-3", "order:7"]
    assert subject_tags({"type": "cart.updated", "cart": {"token": "t1"}}) == ["cart:t1"]
    assert subject_tags({"type": "x"}) == []


def test_the_moves_artifact_escapes_subjects_and_has_a_key() -> None:
    report = BatchReport()
    report.moves.append(Move(1, "order:5001|sku:TEE-M", "wait", "apology_email"))
    report.errors.append("delay_apology · order:5001 · node x: bad *template* [x](y)")
    text = moves_markdown(report, title="delay_apology · order:5001", queued=Counter(),
                          sent=DispatchReport())  # fmt: skip
    row = next(line for line in text.splitlines() if "TEE-M" in line)
    assert row == "| order:5001\\|sku:TEE-M | wait | apology_email |"
    assert "\\*template\\* \\[x\\](y)" in text
    assert moves_key() == "moves-run"  # outside a flow run
    assert artifact_key("funnel", "backorder_stock_arrived") == "funnel-backorder-stock-arrived"
    assert artifact_key("moves", "journeykit-event") == "moves-journeykit-event"


def test_an_event_naming_only_its_order_is_tagged_with_the_orders_customer(
    played,  # noqa: F811
) -> None:
    from journeykit.foundation.db import make_engine

    engine = make_engine(played("delay_apology__cancel_by_sms_reply"))
    try:
        delayed = {"type": "order.delayed", "order_number": "3001"}
        assert subject_tags(delayed, engine) == ["customer:C-3", "order:3001"]
        unknown = {"type": "order.delayed", "order_number": "404"}
        assert subject_tags(unknown, engine) == ["order:404"]
    finally:
        engine.dispose()

"""How flow runs are named and tagged, and what a failed task run may say (no Prefect)."""

from __future__ import annotations

from journeykit.orchestration.flows import customer_safe, event_subject, sweep_name
from journeykit.orchestration.rename import run_tags


def test_sweep_names_say_which_journeys_and_how_many_are_due() -> None:
    assert sweep_name(set(), 0) == "safety sweep · 0 due"
    assert sweep_name({"restock"}, 3) == "safety sweep · 3 due · restock"
    assert sweep_name({"restock", "backorder"}, 5) == "safety sweep · 5 due · backorder, restock"
    assert sweep_name({"a", "b", "c", "d"}, 9) == "safety sweep · 9 due · 4 journeys"


def test_event_subjects() -> None:
    assert event_subject({"type": "order.delayed", "order_number": "5001"}) == "order:5001"
    assert event_subject({"type": "inventory.changed", "sku": "TEE-M"}) == "sku:TEE-M"
    assert event_subject({"type": "checkout.completed", "cart_token": "c1"}) == "cart:c1"
    assert event_subject({"type": "order.placed", "order": {"number": "7"}}) == "order:7"
    assert event_subject({"type": "cart.updated", "cart": {"token": "t"}}) == "cart:t"
    assert event_subject({"type": "ticket.solved", "ticket_id": 4}) == "ticket:4"
    product = {"type": "product.upserted", "product": {"sku": "TEE-M"}}
    assert event_subject(product) == "sku:TEE-M"


def test_tags_carry_journey_short_version_and_channel() -> None:
    assert run_tags(["restock"], ["3d45006b1234abcd"], ["sms", "email"]) == [
        "channel:email",
        "channel:sms",
        "journey:restock",
        "version:3d45006b",
    ]


def test_failure_messages_never_carry_addresses_or_numbers() -> None:
    raw = (
        "12:send_sms:sms:1: 21211 The 'To' number +1 (415) 555-0142 is not valid; ana@shop.example"
    )
    safe = customer_safe(raw)
    assert "555" not in safe and "ana@" not in safe
    assert safe.startswith("12:send_sms:sms:1: 21211 The 'To' number <phone> is not valid")
    assert safe.endswith("<email>")

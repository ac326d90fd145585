"""A customer's and an order's story, read from a database the simulator filled through the
engine (a Tokyo customer cancels a delayed order by SMS reply)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from journeykit.foundation.db import make_engine, session_scope
from journeykit.foundation.models import Customer, Enrollment, OutboxMessage
from journeykit.reports.markdown import escape, table
from journeykit.reports.story import (
    StoryNotFound,
    artifact_key,
    customer_story,
    find_customer,
    order_story,
)
from journeykit.reports.story_markdown import story_markdown

SCENARIO = "delay_apology__cancel_by_sms_reply"


@pytest.fixture
def url(played) -> str:
    return played(SCENARIO)


def kinds_and_whats(story) -> list[tuple[str, str]]:
    return [(e.kind, e.what) for e in story.entries]


def test_an_orders_story_tells_events_moves_messages_and_actions_in_order(url) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        story = order_story(session, "#3001")
    assert story.title == "order 3001" and story.key == "story-order-3001"
    assert ("status", "cancelled") in story.facts
    told = kinds_and_whats(story)
    events = [w for k, w in told if k == "event"]
    assert events[:2] == ["order.placed", "order.delayed"]
    messages = [w for k, w in told if k == "message"]
    # the backorder journey thanked the customer first (every journey was played)
    assert [m.split(" · ")[0] for m in messages] == [
        "email backorder/thank_you",
        "email delay_apology/apology",
        "sms delay_apology/apology",
        "email delay_apology/cancel_confirmation",
    ]
    assert any(k == "action" and w.startswith("cancel") for k, w in told)
    assert any(k == "enrolled" and "entered at" in w for k, w in told)
    assert any(k == "move" and "exited" in w for k, w in told)
    # the timeline is in time order, what arrived before what it caused
    assert [e.at for e in story.entries] == sorted(e.at for e in story.entries)
    delayed = next(i for i, (k, w) in enumerate(told) if w == "order.delayed")
    apology = next(i for i, (k, w) in enumerate(told) if w.startswith("email delay_apology/ap"))
    assert delayed < apology
    engine.dispose()


@pytest.mark.parametrize("ident", ["C-3", "kenta@example.com", "+81 90-1234-5678"])
def test_a_customer_is_found_by_store_id_email_or_phone(url, ident) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.external_id == "C-3")).one()
        assert find_customer(session, ident).id == customer.id
        assert find_customer(session, str(customer.id)).id == customer.id
        story = customer_story(session, ident)
    assert story.key == f"story-customer-{customer.id}"
    assert ("sms marketing", "granted") in story.facts or any(
        name.startswith("sms") for name, _ in story.facts
    )
    told = kinds_and_whats(story)
    assert any(k == "consent" for k, _ in told)
    assert sum(1 for k, _ in told if k == "message") == 4
    engine.dispose()


def test_nothing_found_says_what_was_tried(url) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        with pytest.raises(StoryNotFound, match=r"nobody@example\.com"):
            customer_story(session, "nobody@example.com")
        with pytest.raises(StoryNotFound, match=r"no order number '9999'"):
            order_story(session, "9999")
    engine.dispose()


def test_the_story_markdown_escapes_every_stored_string(url) -> None:
    engine = make_engine(url)
    with session_scope(engine) as session:
        message = session.exec(select(OutboxMessage)).first()
        assert message is not None
        message.error = "boom | [click](http://evil.example) <b>x</b>\nsecond line"
        enrollment = session.exec(select(Enrollment)).first()
        assert enrollment is not None
    with Session(engine) as session:
        text = story_markdown(order_story(session, "3001"))
    engine.dispose()
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    header = rows[0]
    assert header == "| when | kind | what | detail |"
    # every row has exactly the header's cells: no stored `|` opened a column
    for row in rows:
        assert row.replace("\\|", "").count("|") == 5, row
    assert "\\[click\\](http://evil.example)" in text and "<b>" not in text
    assert "second line" in text and "\nsecond line" not in text


def test_markdown_helpers() -> None:
    assert escape("order:1|sku:A") == "order:1\\|sku:A"
    assert escape("a\nb  c") == "a b c"
    assert escape("delay_apology") == "delay_apology"
    assert escape("_x_ *y* a&b") == "\\_x\\_ \\*y\\* a\\&b"
    assert table(("a", "b"), [("x|y", 1)]) == ["| a | b |", "|---|---|", "| x\\|y | 1 |"]
    assert artifact_key("order", "#A-1042/ÉTÉ") == "story-order-a-1042-t"
    assert artifact_key("customer", "12") == "story-customer-12"


def test_an_events_story_is_its_orders_else_its_customers(url) -> None:
    from journeykit.orchestration.story_artifact import event_story

    engine = make_engine(url)
    with Session(engine) as session:
        by_order = event_story(session, {"type": "order.delayed", "order_number": "3001"})
        by_customer = event_story(session, {"type": "x", "customer": {"id": "C-3"}})
        nobody = event_story(session, {"type": "x", "customer": {"id": "1"}})  # not a store id
        nothing = event_story(session, {"type": "ticket.solved", "ticket_id": 4})
    engine.dispose()
    assert by_order is not None and by_order.key == "story-order-3001"
    assert by_customer is not None and by_customer.key.startswith("story-customer-")
    assert nobody is None and nothing is None


def test_a_customers_story_has_the_restock_that_alerted_them(played) -> None:
    engine = make_engine(played("restock__email_and_sms_alert"))
    with Session(engine) as session:
        story = customer_story(session, "zoe@example.com")
    engine.dispose()
    told = kinds_and_whats(story)
    events = [w for k, w in told if k == "event"]
    assert events[:2] == ["restock.signup", "inventory.changed"]
    restock = next(e for e in story.entries if e.what == "inventory.changed")
    assert restock.detail.startswith("sku:")

"""Attribution, outcomes and rates against the hand-built store of seeded_store.py; every
expected number is worked out by hand in the comments (and in docs/reports.md)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine
from journeykit.foundation.settings import Settings
from journeykit.reports.attribution import (
    Windows,
    apology_outcome,
    attribute_orders,
    backorder_outcome,
    converted_enrollments,
    restock_outcome,
)
from journeykit.reports.funnel import funnel_report
from journeykit.reports.journey_report import journey_report
from journeykit.reports.live_funnel import read_funnel
from journeykit.reports.rates import by_arm, by_day, message_facts, rates_by
from tests.reports.conftest import ROOT
from tests.reports.seeded_store import T0, D, seed_store


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/seeded.db"
    seed_store(url)
    return url


def _session(url: str) -> Session:
    return Session(make_engine(url))


def test_last_click_within_5_days_else_last_received_within_a_day(store: str) -> None:
    with _session(store) as session:
        orders = {o.number: o for o in attribute_orders(session, windows=Windows())}
    touch = {n: (o.touch.rule, o.touch.outbox_id) if o.touch else None for n, o in orders.items()}
    assert touch == {
        "O1": ("click", 1),  # Ann clicked message 1 at T0+1h05; O1 at T0+3d (< 5 d)
        "O2": None,  # Ben's click 5d22h before, his last message 5 d before: neither counts
        "O3": ("click", 3),  # Ben's click at T0+2h, O3 at T0+1d2h
        "O4": ("receive", 7),  # Dan never clicked; message 7 (T0+1h) was his last, 11 h before
        "O5": None,  # Cat's only message bounced: never received
        "O6": ("click", 1),  # attributed, but cancelled: earns nothing
        "O7": None,  # Eve's alert 2 d before, no click: outside the 1-day receive window
        "D-1": None,
        "D-2": None,
        "B-1": None,
        "B-2": None,  # placed before any message
    }
    assert orders["O6"].kept is False and orders["O1"].kept is True
    assert orders["O4"].touch is not None and orders["O4"].touch.node == "reminder_email"


def test_windows_are_settings(store: str) -> None:
    one_day = Settings(reports={"click_window_seconds": 86_400})
    windows = Windows.from_settings(one_day)
    assert windows == Windows(click=timedelta(days=1), receive=timedelta(days=1))
    with _session(store) as session:
        orders = {o.number: o for o in attribute_orders(session, windows=windows)}
    assert orders["O1"].touch is None  # the click is 2d23h old; message 2 two days old
    # O3 comes exactly 1 d after Ben's click: a window includes its end
    assert orders["O3"].touch is not None and orders["O3"].touch.rule == "click"
    assert orders["O6"].touch is not None and orders["O6"].touch.rule == "click"


def test_journey_report_keeps_currencies_apart(store: str) -> None:
    book = JourneyBook.from_dir(ROOT / "journeys")
    with _session(store) as session:
        report = journey_report(
            session, "abandoned_cart", book.get("abandoned_cart"), settings=Settings()
        )
    earned = report.earned
    assert (earned.orders, earned.cents) == (3, {"USD": 7500, "EUR": 4000})  # O1+O4, O3
    assert {k: (m.orders, m.cents) for k, m in report.earned_by("node").items()} == {
        "reminder_email": (3, {"USD": 7500, "EUR": 4000})
    }
    per_day = {d.isoformat(): m.cents for d, m in report.earned_per_day().items() if m.orders}
    assert per_day == {"2026-03-03": {"EUR": 4000, "USD": 2500}, "2026-03-05": {"USD": 5000}}
    data = report.as_json()
    assert data["attributed"]["cancelled_orders"] == 1  # O6


def test_converted_is_one_definition_for_every_funnel(store: str) -> None:
    url = store
    book = JourneyBook.from_dir(ROOT / "journeys")
    with _session(url) as session:
        converted = converted_enrollments(session, "abandoned_cart", windows=Windows())
        funnel = funnel_report(session, "abandoned_cart", book.get("abandoned_cart"))
    # 1: O1 via message 1; 2: O3 via message 3; 4: checkout exit (and O4); 3: nothing
    assert converted == {1, 2, 4}
    assert funnel.converted == 3
    assert {(v.variant, v.enrollments, v.converted) for v in funnel.variants} == {
        ("offer", 2, 1),
        ("plain", 2, 2),
    }
    assert read_funnel(make_engine(url), "abandoned_cart").converted == 3


def test_rates_count_distinct_messages(store: str) -> None:
    with _session(store) as session:
        facts = message_facts(session, journey="abandoned_cart")
    total = rates_by(facts, lambda f: ["all"])["all"]
    counts = {
        k: getattr(total, k)
        for k in (
            "sent",
            "delivered",
            "opened",
            "machine_opened",
            "clicked",
            "unsubscribed",
            "bounced",
            "complained",
            "replied",
        )
    }
    assert counts == {
        "sent": 7,  # messages 1-7
        "delivered": 5,  # 1, 2, 3, 4, 6
        "opened": 2,  # 1, 2
        "machine_opened": 1,  # 2 (sg_machine_open)
        "clicked": 2,  # 1 (twice: SendGrid and the short link, once counted), 3
        "unsubscribed": 1,
        "bounced": 1,
        "complained": 1,  # 4, 5, 4
        "replied": 1,  # Dan's "1", 30 min after SMS message 6
    }
    assert total.rate("delivered") == pytest.approx(5 / 7)
    assert total.rate("bounced") == pytest.approx(1 / 7)
    assert total.rate("clicked") == pytest.approx(2 / 5)
    arms = {k: (r.sent, r.opened, r.unsubscribed) for k, r in rates_by(facts, by_arm).items()}
    assert arms == {
        ("abandoned_cart", "second_message", "offer"): (1, 1, 0),
        ("abandoned_cart", "second_message", "plain"): (1, 0, 1),
    }
    days = {k.isoformat(): r.sent for k, r in rates_by(facts, by_day).items()}
    assert days == {"2026-03-02": 5, "2026-03-03": 2}


def test_outcomes(store: str) -> None:
    with _session(store) as session:
        restock = restock_outcome(session, windows=Windows())
        apology = apology_outcome(session)
        backorder = backorder_outcome(session)
    # Eve, alerted at T0+2d, bought 2 x SUN-1 at 15.00 at T0+4d (the hat is not counted)
    assert (restock.alerted, restock.bought, restock.revenue_cents) == (1, 1, {"USD": 3000})
    assert restock.rate == 1.0
    assert (apology.apologised, apology.kept, apology.cancelled) == (2, 1, 1)
    assert (apology.credits_issued, apology.credits_redeemed) == (1, 1)
    assert (apology.kept_cents, apology.credit_cents) == ({"USD": 10000}, {"USD": 1000})
    b, d = backorder.backorders, backorder.delayed
    assert (b.orders, b.delivered, b.cancelled, b.open) == (2, 1, 0, 1)  # B-1, B-2
    assert (d.orders, d.delivered, d.cancelled, d.open) == (2, 0, 1, 1)  # D-1 (backorder), D-2
    assert (b.cancel_rate, d.cancel_rate) == (0.0, 0.5)


def test_restock_window_is_the_click_window(store: str) -> None:
    with _session(store) as session:
        short = restock_outcome(session, windows=Windows(click=D))
    assert (short.alerted, short.bought) == (1, 0)  # bought 2 d after the alert
    assert T0 is not None

"""A hand-built store whose every report number is worked out by hand in the tests (and in
docs/reports.md): customers, enrollments, messages, provider events, orders, credits and
restock sign-ups written as rows, no engine involved. T0 = 2026-03-02 12:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import (
    Customer,
    Enrollment,
    JourneyVersion,
    MessageEvent,
    Order,
    OrderLine,
    OutboxMessage,
    Product,
    RestockSignup,
    StoreCredit,
    Variant,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)


def seed_store(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        _seed(s)
        s.commit()
    engine.dispose()


def _seed(s: Session) -> None:
    names = ["ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ivy"]
    c = {}
    for i, name in enumerate(names, 1):
        c[name] = Customer(
            id=i,
            external_id=name.upper(),
            email=f"{name}@example.com",
            phone=f"+1212555010{i}",
            created_at=T0 - 30 * D,
        )
        s.add(c[name])
    for journey in ("abandoned_cart", "restock", "delay_apology"):
        s.add(JourneyVersion(hash=f"v-{journey}", journey=journey, source="", created_at=T0))
    s.flush()

    def enroll(eid: int, journey: str, who: str, key: str, **kw: Any) -> None:
        s.add(
            Enrollment(
                id=eid,
                journey=journey,
                version=f"v-{journey}",
                subject_type=key.split(":")[0],
                subject_key=key,
                customer_id=c[who].id,
                node_id="done",
                status="completed",
                entered_at=T0 - D,
                updated_at=T0,
                **kw,
            )
        )

    enroll(1, "abandoned_cart", "ann", "cart:a", data={"variants": {"second_message": "offer"}})
    enroll(2, "abandoned_cart", "ben", "cart:b", data={"variants": {"second_message": "plain"}})
    enroll(3, "abandoned_cart", "cat", "cart:c", data={"variants": {"second_message": "offer"}})
    enroll(
        4,
        "abandoned_cart",
        "dan",
        "cart:d",
        data={"variants": {"second_message": "plain"}},
        exit_reason="exit_when:checkout.completed",
    )
    enroll(5, "restock", "eve", "sku:SUN-1|customer:EVE")
    enroll(6, "delay_apology", "fay", "order:D-1")
    enroll(7, "delay_apology", "gus", "order:D-2")
    s.flush()

    def message(mid: int, eid: int, who: str, node: str, at: datetime, **kw: Any) -> None:
        journey = {
            1: "abandoned_cart",
            2: "abandoned_cart",
            3: "abandoned_cart",
            4: "abandoned_cart",
            5: "restock",
        }.get(eid, "delay_apology")
        kw.setdefault("channel", "email")
        kw.setdefault("status", "delivered")
        kw.setdefault("template", f"{journey}/{node}")
        s.add(
            OutboxMessage(
                id=mid,
                key=f"m{mid}",
                enrollment_id=eid,
                journey=journey,
                node_id=node,
                customer_id=c[who].id,
                to_address=who,
                due_at=at,
                created_at=at,
                sent_at=at,
                **kw,
            )
        )

    message(1, 1, "ann", "reminder_email", T0, template="abandoned_cart/reminder")
    message(2, 1, "ann", "discount_email", T0 + D, variant="second_message=offer")
    message(3, 2, "ben", "reminder_email", T0, template="abandoned_cart/reminder")
    message(4, 2, "ben", "last_reminder", T0 + D, variant="second_message=plain")
    message(5, 3, "cat", "reminder_email", T0, status="bounced", template="abandoned_cart/reminder")
    message(6, 4, "dan", "reminder_sms", T0, channel="sms", template="abandoned_cart/reminder")
    message(
        7, 4, "dan", "reminder_email", T0 + H, status="sent", template="abandoned_cart/reminder"
    )
    message(8, 5, "eve", "alert_email", T0 + 2 * D)
    message(9, 6, "fay", "apology_email", T0)
    message(10, 7, "gus", "apology_email", T0)
    s.flush()

    events = [
        (1, "delivered", T0, {}),
        (1, "open", T0 + H, {}),
        (1, "click", T0 + H, {}),
        (1, "click", T0 + 65 * timedelta(minutes=1), {"code": "abc"}),
        (2, "delivered", T0 + D, {}),
        (2, "open", T0 + D, {"sg_machine_open": True}),
        (3, "delivered", T0, {}),
        (3, "click", T0 + 2 * H, {}),
        (4, "delivered", T0 + D, {}),
        (4, "unsubscribe", T0 + D + H, {}),
        (4, "spamreport", T0 + D + H, {}),
        (5, "bounce", T0, {}),
        (6, "delivered", T0, {}),
        (8, "delivered", T0 + 2 * D, {}),
        (9, "delivered", T0, {}),
        (10, "delivered", T0, {}),
    ]
    for n, (outbox_id, kind, at, data) in enumerate(events):
        s.add(
            MessageEvent(
                provider_event_id=f"e{n}", outbox_id=outbox_id, kind=kind, at=at, data=data
            )
        )
    s.add(
        MessageEvent(
            provider_event_id="in1",
            kind="inbound",
            at=T0 + 30 * timedelta(minutes=1),
            data={"From": c["dan"].phone, "Body": "1"},
        )
    )

    products = {}
    for sku, price, currency in (
        ("SUN-1", 1500, "USD"),
        ("HAT-1", 800, "USD"),
        ("SUN-2", 2000, "USD"),
        ("HAT-2", 5000, "USD"),
        ("SCARF-EU", 3000, "EUR"),
    ):
        product = Product(handle=sku.lower(), title=sku)
        s.add(product)
        s.flush()
        products[sku] = Variant(
            sku=sku, product_id=product.id, price_cents=price, currency=currency, inventory=0
        )
        s.add(products[sku])
    s.flush()

    def order(number: str, who: str, at: datetime, cents: int, **kw: Any) -> Order:
        row = Order(number=number, customer_id=c[who].id, placed_at=at, total_cents=cents, **kw)
        s.add(row)
        s.flush()
        return row

    order("O1", "ann", T0 + 3 * D, 5000)
    order("O2", "ben", T0 + 6 * D, 3000, currency="EUR")
    order("O3", "ben", T0 + D + 2 * H, 4000, currency="EUR")
    order("O4", "dan", T0 + 12 * H, 2500)
    order("O5", "cat", T0 + 2 * H, 1000)
    order("O6", "ann", T0 + D + H, 7000, status="cancelled")
    o7 = order("O7", "eve", T0 + 4 * D, 3800)
    s.add(OrderLine(order_id=o7.id, variant_id=products["SUN-1"].id, quantity=2, price_cents=1500))
    s.add(OrderLine(order_id=o7.id, variant_id=products["HAT-1"].id, quantity=1, price_cents=800))
    d1 = order("D-1", "fay", T0 - 10 * D, 10000, tags=["delayed"], is_backorder=True)
    order("D-2", "gus", T0 - 10 * D, 6000, tags=["delayed"], status="cancelled")
    order("B-1", "hal", T0 - 20 * D, 9000, is_backorder=True, status="delivered")
    order("B-2", "ivy", T0 - 20 * D, 9000, is_backorder=True)
    s.add(
        StoreCredit(
            customer_id=c["fay"].id,
            order_id=d1.id,
            code="SORRY-1",
            amount_cents=1000,
            issued_at=T0 + H,
            used_at=T0 + 2 * D,
        )
    )

    for who, sku, channel, at in (
        ("ann", "SUN-2", "email", T0),
        ("ann", "SUN-2", "sms", T0),
        ("ben", "SUN-2", "email", T0 + D),
        ("cat", "HAT-2", "email", T0 + D),
        ("dan", "SCARF-EU", "email", T0 + 2 * D),
    ):
        s.add(
            RestockSignup(
                customer_id=c[who].id, variant_id=products[sku].id, channel=channel, created_at=at
            )
        )

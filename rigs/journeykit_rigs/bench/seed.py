"""Bulk data for benchmarks and scale tests: a product, customers with consent and restock
sign-ups, and enrollments parked in the restock journey — inserted in chunks with Core
``INSERT``s (the ORM would cost more than what is measured)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, func, insert
from sqlmodel import Session, select

from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import (
    Consent,
    Customer,
    Enrollment,
    Product,
    RestockSignup,
    Variant,
)
from journeykit_rigs.bench.journey import NAME, WAKES_AT

CHUNK = 20_000
SKU = "BENCH-SOFA"
CHANNELS = ("email", "sms")


def _table(model: Any) -> Table:
    return model.__table__


def _chunks(total: int, start: int = 0) -> Iterator[range]:
    for low in range(start, start + total, CHUNK):
        yield range(low, min(low + CHUNK, start + total))


def seed_variant(engine: Engine, now: datetime, *, inventory: int = 0, sku: str = SKU) -> int:
    """One product with one variant; returns the variant's id."""
    with session_scope(engine) as session:
        product = Product(handle=sku.lower(), title="Bench sofa", url=f"https://shop.example/{sku}")
        session.add(product)
        session.flush()
        variant = Variant(sku=sku, product_id=product.id, price_cents=50_000, inventory=inventory)  # type: ignore[arg-type]
        session.add(variant)
        session.flush()
        return int(variant.id)  # type: ignore[arg-type]


def phone_of(i: int) -> str:
    """A US mobile number of its own for customer ``i`` (8,000,000 before one repeats:
    exchanges 200-999 of 415). Numbers shared by several customers would make every claim
    load the consent of each number's other owners (consent belongs to the address)."""
    return f"+1415{200 + (i // 10_000) % 800:03d}{i % 10_000:04d}"


def seed_customers(
    engine: Engine,
    now: datetime,
    count: int,
    *,
    variant_id: int | None = None,
    channels: tuple[str, ...] = CHANNELS,
) -> range:
    """``count`` customers (ids returned) with an email, a US mobile number, marketing consent
    on ``channels`` and, given ``variant_id``, a restock sign-up per channel."""
    with Session(engine) as session:
        first = int(session.exec(select(func.coalesce(func.max(Customer.id), 0))).one() or 0) + 1
    signed = now - timedelta(days=1)
    with engine.begin() as conn:
        for ids in _chunks(count, first):
            conn.execute(
                insert(_table(Customer)),
                [
                    {
                        "id": i,
                        "external_id": f"B-{i}",
                        "email": f"b{i}@example.com",
                        "phone": phone_of(i),
                        "first_name": "Ana",
                        "timezone": "America/New_York",
                        "locale": "en",
                        "tags": [],
                        "created_at": signed,
                    }
                    for i in ids
                ],
            )
            consent = [
                {"customer_id": i, "channel": c, "purpose": "marketing", "granted": True}
                | {"source": "bench", "wording": "", "recorded_at": signed, "detail": {}}
                for i in ids
                for c in channels
            ]
            conn.execute(insert(_table(Consent)), consent)
            if variant_id is not None:
                conn.execute(
                    insert(_table(RestockSignup)),
                    [
                        {"customer_id": i, "variant_id": variant_id, "channel": c}
                        | {"consent_wording": "", "source": "bench", "created_at": signed}
                        | {"status": "waiting"}
                        for i in ids
                        for c in channels
                    ],
                )
    return range(first, first + count)


def seed_enrollments(
    engine: Engine,
    book: JourneyBook,
    now: datetime,
    *,
    due: range,
    waiting: int,
    journey: str = NAME,
    node_id: str = WAKES_AT,
    sku: str = SKU,
) -> None:
    """Enrollments parked at ``node_id`` of ``journey`` (the bench journey): one due now per
    customer id in ``due``, and ``waiting`` more (no customer) that wake in two days."""
    with session_scope(engine) as session:
        version = book.snapshot(session, journey, now)

    def row(i: int, customer: int | None, wake_at: datetime) -> dict[str, Any]:
        subject = f"sku:{sku}|customer:B-{customer if customer else f'w{i}'}"
        return {
            "journey": journey,
            "version": version,
            "subject_type": "sku",
            "subject_key": subject,
            "customer_id": customer,
            "active_key": f"{journey}:{subject}",
            "node_id": node_id,
            "status": "waiting",
            "wake_at": wake_at,
            "waiting_for": [],
            "data": {"channels": list(CHANNELS), "signup_ids": []},
            "visits": {node_id: 1},
            "entered_at": now - timedelta(days=2),
            "updated_at": now - timedelta(days=2),
        }

    later, past = now + timedelta(days=2), now - timedelta(minutes=1)
    with engine.begin() as conn:
        for ids in _chunks(waiting):
            conn.execute(insert(_table(Enrollment)), [row(i, None, later) for i in ids])
        for low in range(0, len(due), CHUNK):
            part = due[low : low + CHUNK]
            conn.execute(insert(_table(Enrollment)), [row(i, i, past) for i in part])

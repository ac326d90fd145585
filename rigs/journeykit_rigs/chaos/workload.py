"""The chaos workload: a restock wave through the shipped ``restock`` journey. Every customer
signs up for a sold-out product by email and SMS; the products come back with stock for all
of them. Each customer is then due exactly three messages: the alert by email and by SMS at
once, and the "still available" email two days later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pendulum
from sqlalchemy import Engine
from sqlmodel import Session

from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import session_scope
from journeykit.service.registry_loader import project_registry
from journeykit_rigs.chaos.bulk_seed import insert_signups

START = pendulum.datetime(2026, 3, 2, 10, tz="UTC")  # a Monday, outside SMS quiet hours
CUSTOMERS_PER_PRODUCT = 1000
EXPECTED = (
    ("restock/back_in_stock", "email"),
    ("restock/back_in_stock", "sms"),
    ("restock/still_available", "email"),
)


@dataclass(frozen=True)
class Recipient:
    email: str
    phone: str


def recipient(i: int) -> Recipient:
    return Recipient(f"c{i}@chaos.example", f"+1{415 + i // 10_000}555{i % 10_000:04d}")


def _customer(i: int) -> dict[str, Any]:
    r = recipient(i)
    return {
        "id": f"CHAOS-{i}",
        "email": r.email,
        "phone": r.phone,
        "timezone": "UTC",
        "first_name": f"Shopper{i}",
        "consent": {"email": True, "sms": True},
    }


def seed_restock_wave(
    engine: Engine,
    book: JourneyBook,
    customers: int,
    start: datetime = START,
    *,
    bulk: bool = True,
) -> datetime:
    """Products, sign-ups and the restock events (the wave's enrollments are created here);
    returns the virtual time the worker starts at. ``bulk``: the sign-ups are written with
    Core INSERTs (``bulk_seed``) instead of one ``restock.signup`` event each — the same
    rows; products and the restock events always go through ``ingest_event``."""
    products = max(1, -(-customers // CUSTOMERS_PER_PRODUCT))
    sku = [f"CHAOS-SKU-{p}" for p in range(products)]
    with session_scope(engine) as session:
        for p, s in enumerate(sku):
            product = {"sku": s, "handle": f"chaos-{p}", "title": f"Chaos lamp {p}"}
            payload = {"type": "product.upserted", "product": product | {"price_cents": 4900}}
            _emit(session, book, start, payload, s)
        if not bulk:
            for i in range(customers):
                signup = {"customer": _customer(i), "sku": sku[i % products]}
                payload = {"type": "restock.signup", **signup, "channels": ["email", "sms"]}
                _emit(session, book, start, payload, f"s{i}")
    if bulk:
        insert_signups(engine, [_customer(i) for i in range(customers)], sku, start)
    now = start + timedelta(minutes=1)
    with session_scope(engine) as session:
        for s in sku:
            restock = {"type": "inventory.changed", "sku": s, "quantity": max(10, customers)}
            _emit(session, book, now, restock, f"wave:{s}")
    return now


def _emit(
    session: Session, book: JourneyBook, now: datetime, payload: dict[str, Any], key: str
) -> None:
    ingest_event(
        session,
        book=book,
        now=now,
        payload=payload,
        key=key,
        source="chaos",
        registry=project_registry(),  # the restock audience
    )

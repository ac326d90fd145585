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

import journeykit.engine.builtin_actions  # noqa: F401  (registers the restock audience)
from journeykit.db import session_scope
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event

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
    engine: Engine, book: JourneyBook, customers: int, start: datetime = START
) -> datetime:
    """Products, sign-ups and the restock events (the wave's enrollments are created here);
    returns the virtual time the worker starts at."""
    products = max(1, -(-customers // CUSTOMERS_PER_PRODUCT))
    sku = [f"CHAOS-SKU-{p}" for p in range(products)]
    now = start
    with session_scope(engine) as session:

        def emit(payload: dict[str, Any], key: str) -> None:
            ingest_event(session, book=book, now=now, payload=payload, key=key, source="chaos")

        for p, s in enumerate(sku):
            product = {"sku": s, "handle": f"chaos-{p}", "title": f"Chaos lamp {p}"}
            emit({"type": "product.upserted", "product": product | {"price_cents": 4900}}, s)
        for i in range(customers):
            signup = {"customer": _customer(i), "sku": sku[i % products]}
            emit({"type": "restock.signup", **signup, "channels": ["email", "sms"]}, f"s{i}")
        now = start + timedelta(minutes=1)
        for s in sku:
            emit(
                {"type": "inventory.changed", "sku": s, "quantity": max(10, customers)}, f"wave:{s}"
            )
    return now

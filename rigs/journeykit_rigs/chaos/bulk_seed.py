"""The chaos wave's sign-ups written in bulk: the same customers, consent and restock
sign-up rows that ``restock.signup`` events would leave in the store tables, inserted with
Core ``INSERT``s in chunks. Seeding is setup, not what a trial tests; the restock itself
still goes through ``ingest_event`` (tests/rigs/chaos/test_bulk_seed.py holds the two equal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select

from journeykit.foundation.models import Consent, Customer, RestockSignup, Variant

CHUNK = 5_000
CHANNELS = ("email", "sms")
SIGNUP_SOURCE = "widget"  # RestockSignup's default, as the event carries no source
STORE_CONSENT_SOURCE = "store"  # CustomerIn.consent_source's default


def _table(model: Any) -> Table:
    return model.__table__


def insert_signups(
    engine: Engine, customers: Sequence[dict[str, Any]], skus: Sequence[str], now: datetime
) -> None:
    """For each customer payload (``restock.signup``'s ``customer``) at index ``i``: the
    customer, its store consent per channel, and a sign-up with consent per channel for
    ``skus[i % len(skus)]`` — in the order the events would have written them."""
    with engine.begin() as conn:
        first = (
            int(conn.execute(select(func.coalesce(func.max(_table(Customer).c.id), 0))).one()[0])
            + 1
        )
        variants: dict[str, int] = {
            sku: variant_id
            for sku, variant_id in conn.execute(
                select(_table(Variant).c.sku, _table(Variant).c.id).where(
                    _table(Variant).c.sku.in_(list(skus))
                )
            ).all()
        }
        missing = [s for s in skus if s not in variants]
        if missing:
            raise LookupError(f"unknown sku {missing[0]!r}: send product.upserted first")
        for low in range(0, len(customers), CHUNK):
            part = range(low, min(low + CHUNK, len(customers)))
            conn.execute(
                insert(_table(Customer)),
                [_customer_row(first + i, customers[i], now) for i in part],
            )
            consent: list[dict[str, Any]] = []
            signups: list[dict[str, Any]] = []
            for i in part:
                cid = first + i
                for channel, granted in customers[i].get("consent", {}).items():
                    consent.append(_consent_row(cid, channel, granted, STORE_CONSENT_SOURCE, now))
                for channel in CHANNELS:
                    consent.append(  # a signup grants alerts of its item only
                        _consent_row(
                            cid,
                            channel,
                            True,
                            f"restock:{SIGNUP_SOURCE}",
                            now,
                            purpose=f"restock:{skus[i % len(skus)]}",
                        )
                    )
                    signups.append(
                        {
                            "customer_id": cid,
                            "variant_id": variants[skus[i % len(skus)]],
                            "channel": channel,
                            "consent_wording": "",
                            "source": SIGNUP_SOURCE,
                            "created_at": now,
                            "status": "waiting",
                            "alerted_at": None,
                        }
                    )
            conn.execute(insert(_table(Consent)), consent)
            conn.execute(insert(_table(RestockSignup)), signups)


def _customer_row(cid: int, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": cid,
        "external_id": data["id"],
        "email": data.get("email"),
        "phone": data.get("phone"),
        "first_name": data.get("first_name", ""),
        "timezone": data.get("timezone", "UTC"),
        "locale": data.get("locale", "en"),
        "country": data.get("country"),
        "tags": [],
        "created_at": now,
    }


def _consent_row(
    cid: int,
    channel: str,
    granted: bool,
    source: str,
    now: datetime,
    purpose: str = "marketing",
) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "channel": channel,
        "purpose": purpose,
        "granted": granted,
        "source": source,
        "wording": "",
        "recorded_at": now,
        "detail": {},
    }

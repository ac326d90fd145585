"""What Shopify's products webhooks teach the catalog. Each variant with a SKU enters the
catalog the way every variant does, as a ``product.upserted`` event (what Shopify does not
say, such as the product page URL, currency or days to use, is kept from the rows we have),
and gets its ``shopify_inventory_item_id``, so that ``inventory_levels/update`` (which names
the inventory item, not the SKU) finds its SKU. One transaction and one receipt per webhook."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Product, Variant
from journeykit.foundation.settings import Settings
from journeykit.service.events import accept_and_apply
from journeykit.web.state import WebState, move_on
from journeykit.web.store_events import (
    Answer,
    body_hash,
    event_key,
    find_receipt,
    keep_receipt,
    replay,
)


def sku_for_inventory_item(engine: Engine, item_id: str) -> str | None:
    """The SKU of the variant whose Shopify inventory item this is (None: not known)."""
    with Session(engine) as session:
        return session.exec(
            select(Variant.sku).where(Variant.shopify_inventory_item_id == item_id)
        ).first()


def kept_fields(session: Session, settings: Settings, fields: dict[str, Any]) -> dict[str, Any]:
    """The ``product.upserted`` product: what Shopify said over what the catalog has. A new
    product's page is ``{store_url}/products/{handle}``, where Shopify serves it."""
    product = session.exec(select(Product).where(Product.handle == fields["handle"])).first()
    variant = session.exec(select(Variant).where(Variant.sku == fields["sku"])).first()
    kept: dict[str, Any] = {}
    if product is not None:
        kept |= {
            "url": product.url,
            "category": product.category,
            "image_url": product.image_url,
            "days_to_use": product.days_to_use,
        }
    if not kept.get("url"):
        kept["url"] = f"{settings.store.url.rstrip('/')}/products/{fields['handle']}"
    if variant is not None:
        kept |= {
            "variant_title": variant.title,
            "price_cents": variant.price_cents,
            "currency": variant.currency,
            "inventory": variant.inventory,
            "backorderable": variant.backorderable,
        }
    return {**kept, **fields}


def link_inventory_item(session: Session, sku: str, item_id: str) -> None:
    """Give the variant ``sku`` this inventory item, taking it from any other variant that
    had it (a SKU renamed in Shopify keeps its inventory item)."""
    variant = session.exec(select(Variant).where(Variant.sku == sku)).one()
    if variant.shopify_inventory_item_id == item_id:
        return
    holders = session.exec(select(Variant).where(Variant.shopify_inventory_item_id == item_id))
    for other in holders.all():
        other.shopify_inventory_item_id = None
        session.add(other)
    session.flush()
    variant.shopify_inventory_item_id = item_id
    session.add(variant)
    session.flush()


def accept_products(
    state: WebState,
    topic: str,
    data: dict[str, Any],
    variants: list[tuple[dict[str, Any], str | None]],
    key: str | None,
) -> Answer:
    """Record a products webhook once (``shopify:{topic}:{webhook id}``; without a webhook
    id, a new event every time), applied in the request even with
    ``WEB_EVENT_DELIVERY=prefect``: the next inventory webhook needs the mapping at once.
    Raises ``pydantic.ValidationError`` for a product our catalog refuses."""
    request_hash = body_hash(data)
    receipt_key = event_key(f"shopify:{topic}", key)
    for attempt in (1, 2):
        try:
            answer, touched = _record(state, topic, variants, key, receipt_key, request_hash)
            break
        except IntegrityError:  # a concurrent webhook created the same variant or receipt
            with Session(state.runtime.engine) as session:
                receipt = find_receipt(session, receipt_key)
            if receipt is not None:
                return replay(receipt, request_hash)
            if attempt == 2:
                raise
    move_on(state, touched)
    return answer


def _record(
    state: WebState,
    topic: str,
    variants: list[tuple[dict[str, Any], str | None]],
    key: str | None,
    receipt_key: str,
    request_hash: str,
) -> tuple[Answer, list[int]]:
    now = state.now()
    touched: list[int] = []
    recorded: list[dict[str, Any]] = []
    with session_scope(state.runtime.engine) as session:
        receipt = find_receipt(session, receipt_key)
        if receipt is not None:
            return replay(receipt, request_hash), []
        for fields, item_id in variants:
            payload = {
                "type": "product.upserted",
                "product": kept_fields(session, state.settings, fields),
            }
            sku = fields["sku"]
            accepted, applied = accept_and_apply(
                session,
                state.runtime,
                payload=payload,
                key=f"{receipt_key}:{sku}",
                source="shopify",
                now=now,
            )
            if item_id is not None:
                link_inventory_item(session, sku, item_id)
            touched += applied.touched
            recorded.append(
                {"sku": sku, "event_id": accepted.inbox_id, "inventory_item_id": item_id}
            )
        body: dict[str, Any] = {"status": "accepted", "variants": recorded}
        keep_receipt(session, receipt_key, request_hash, body, now)
    return Answer(202, body), touched

"""Shopify webhook payloads turned into Journeykit events. Shopify identifies orders by
``order_number`` (the ``#1001`` customers see), variants by SKU in line items, carts by
token, and inventory levels by *inventory item* (each variant has one): the products
webhooks tell us which inventory item belongs to which SKU."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

INVENTORY_TOPIC = "inventory_levels/update"
CATALOG_TOPICS = ("products/create", "products/update")
TOPICS = (
    "orders/create",
    "orders/cancelled",
    INVENTORY_TOPIC,
    "fulfillments/create",
    "carts/update",
    *CATALOG_TOPICS,
)


class Unmappable(ValueError):
    """A payload that does not carry what the event needs (the message says what)."""


def cents(value: Any) -> int:
    try:
        return max(0, int(Decimal(str(value or "0")) * 100))
    except InvalidOperation as exc:
        raise Unmappable(f"price {value!r} is not a number") from exc


def _lines(items: Any) -> list[dict[str, Any]]:
    lines = []
    for item in items or []:
        if not isinstance(item, dict) or not item.get("sku"):
            continue  # gift cards, custom items: nothing Journeykit can follow
        lines.append(
            {
                "sku": str(item["sku"]),
                "quantity": max(1, int(item.get("quantity") or 1)),
                "price_cents": cents(item.get("price")),
            }
        )
    return lines


def _customer(data: dict[str, Any], fallback: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("customer")
    customer: dict[str, Any] = raw if isinstance(raw, dict) else {}
    ident = customer.get("id") or fallback.get("email") or fallback.get("phone")
    if not ident:
        raise Unmappable("the payload names no customer (customer.id, email or phone)")
    marketing = customer.get("email_marketing_consent") or {}
    sms_marketing = customer.get("sms_marketing_consent") or {}
    out: dict[str, Any] = {
        "id": str(ident),
        "email": customer.get("email") or fallback.get("email") or None,
        "phone": customer.get("phone") or fallback.get("phone") or None,
        "first_name": customer.get("first_name") or "",
        "locale": str(fallback.get("customer_locale") or customer.get("locale") or "en")[:2],
        "consent_source": "shopify",
    }
    consent = {}
    if isinstance(marketing, dict) and "state" in marketing:
        consent["email"] = marketing["state"] == "subscribed"
    if isinstance(sms_marketing, dict) and "state" in sms_marketing:
        consent["sms"] = sms_marketing["state"] == "subscribed"
    if consent:
        out["consent"] = consent
    return out


def _order_number(data: dict[str, Any]) -> str:
    number = data.get("order_number") or str(data.get("name") or "").lstrip("#").split(".")[0]
    if not number:
        raise Unmappable("the payload has no order_number or name")
    return str(number)


def to_event(topic: str, data: dict[str, Any]) -> dict[str, Any]:
    """The Journeykit event for one order or cart webhook (``Unmappable`` when it cannot
    be). Inventory levels: ``inventory_level``; products: ``product_variants``."""
    if topic == "orders/create":
        return {
            "type": "order.placed",
            "customer": _customer(data, data),
            "order": {
                "number": _order_number(data),
                "lines": _lines(data.get("line_items")),
                "total_cents": cents(data.get("total_price")),
                "currency": str(data.get("currency") or "USD"),
            },
        }
    if topic == "orders/cancelled":
        return {"type": "order.cancelled", "order_number": _order_number(data)}
    if topic == "fulfillments/create":
        number = data.get("order_number") or str(data.get("name") or "").lstrip("#")
        return {
            "type": "order.shipped",
            "order_number": _order_number({"order_number": number.split(".")[0]}),
            "tracking_number": data.get("tracking_number"),
            "carrier": data.get("tracking_company"),
        }
    if topic == "carts/update":
        token = data.get("token") or data.get("id")
        if not token:
            raise Unmappable("the cart has no token")
        return {
            "type": "cart.updated",
            "customer": _customer(data, data),
            "cart": {"token": str(token), "lines": _lines(data.get("line_items"))},
        }
    raise Unmappable(f"topic {topic!r} is not handled; handled: {', '.join(TOPICS)}")


def inventory_level(data: dict[str, Any]) -> tuple[str, int]:
    """(inventory item id, units available) of an ``inventory_levels/update`` payload."""
    item = _item_id(data.get("inventory_item_id"))
    available = data.get("available")
    if item is None or isinstance(available, bool) or not isinstance(available, int):
        raise Unmappable("inventory level needs inventory_item_id and available (a number)")
    return item, available


def _item_id(value: Any) -> str | None:
    """Shopify's ids are numbers (strings are taken as they are); anything else is none."""
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        return None
    return str(value)[:64]


def inventory_changed(sku: str, available: int) -> dict[str, Any]:
    return {"type": "inventory.changed", "sku": sku, "quantity": available}


def _image(data: dict[str, Any]) -> str | None:
    image = data.get("image")
    images = data.get("images")
    if not isinstance(image, dict) and isinstance(images, list) and images:
        image = images[0]
    src = image.get("src") if isinstance(image, dict) else None
    return str(src) if src else None


def product_variants(data: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """A ``products/create|update`` payload as ``product.upserted`` product fields, one per
    variant that has a SKU, each with the variant's inventory item id. Only what Shopify
    says is filled in (no ``url``, ``currency``, ``days_to_use``): the catalog keeps what it
    already has for the rest."""
    handle, title = data.get("handle"), data.get("title")
    if not handle or not title:
        raise Unmappable("the product has no handle or title")
    shared: dict[str, Any] = {"handle": str(handle), "title": str(title)}
    if data.get("product_type"):
        shared["category"] = str(data["product_type"])
    image = _image(data)
    if image:
        shared["image_url"] = image
    out = []
    for variant in data.get("variants") or []:
        if not isinstance(variant, dict) or not variant.get("sku"):
            continue  # a variant without a SKU cannot be followed
        fields = {**shared, "sku": str(variant["sku"])}
        label = str(variant.get("title") or "")
        fields["variant_title"] = "" if label == "Default Title" else label
        if variant.get("price") not in (None, ""):
            fields["price_cents"] = cents(variant["price"])
        quantity = variant.get("inventory_quantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            fields["inventory"] = quantity
        if variant.get("inventory_policy") in ("continue", "deny"):
            fields["backorderable"] = variant["inventory_policy"] == "continue"
        out.append((fields, _item_id(variant.get("inventory_item_id"))))
    return out

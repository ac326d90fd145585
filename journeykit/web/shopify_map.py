"""Shopify webhook payloads turned into Journeykit events. Shopify identifies orders by
``order_number`` (the ``#1001`` customers see), variants by SKU, carts by token."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

TOPICS = (
    "orders/create",
    "orders/cancelled",
    "inventory_levels/update",
    "fulfillments/create",
    "carts/update",
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
    """The Journeykit event for one Shopify webhook (``Unmappable`` when it cannot be)."""
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
    if topic == "inventory_levels/update":
        sku = data.get("sku") or data.get("inventory_item_id")
        if sku in (None, "") or not isinstance(data.get("available"), int):
            raise Unmappable("inventory level needs sku (or inventory_item_id) and available")
        return {"type": "inventory.changed", "sku": str(sku), "quantity": data["available"]}
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

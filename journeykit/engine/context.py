"""The names a template or condition sees for one enrollment (see ``spec/context.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pendulum
from sqlmodel import Session, select

from journeykit.models import Cart, Customer, Enrollment, Order, OrderLine, Product, Variant
from journeykit.settings import Settings
from journeykit.spec.journey import Journey


def build_context(
    session: Session, *, settings: Settings, journey: Journey, enrollment: Enrollment, now: datetime
) -> dict[str, Any]:
    customer = session.get(Customer, enrollment.customer_id) if enrollment.customer_id else None
    tz = customer.timezone if customer else "UTC"
    locale = customer.locale if customer else "en"
    ctx: dict[str, Any] = {
        "customer": _customer(customer),
        "store": store_info(settings),
        "journey": {"name": journey.name, "settings": journey.settings},
        "settings": journey.settings,
        "enrollment": {
            "id": enrollment.id,
            "entered_at": enrollment.entered_at,
            "data": enrollment.data,
        },
        "event": enrollment.data.get("last_event") or enrollment.data.get("event") or {},
        "links": {},
        "replies": [],
        "offer": None,
        "unsubscribe_url": "",
        "preferences_url": "",
        "locale": locale,
        "now": pendulum.instance(now).in_timezone(tz),
    }
    base = settings.public_base_url.rstrip("/")
    subject = dict(part.split(":", 1) for part in enrollment.subject_key.split("|"))
    if journey.subject == "order":
        order = session.exec(select(Order).where(Order.number == subject["order"])).first()
        lines = order_lines(session, order.id) if order else []  # type: ignore[arg-type]
        ctx["order"] = _order(order, base) if order else None
        ctx["lines"] = lines
        ctx["product"] = lines[0]["_product"] if lines else None
        ctx["variant"] = lines[0]["_variant"] if lines else None
    elif journey.subject == "sku":
        variant = session.exec(select(Variant).where(Variant.sku == subject["sku"])).first()
        ctx["variant"] = variant_info(session, variant, base) if variant else None
        ctx["product"] = ctx["variant"]["_product"] if variant else None
    elif journey.subject == "cart":
        cart = session.exec(select(Cart).where(Cart.token == subject["cart"])).first()
        ctx["cart"], ctx["lines"] = _cart(session, cart, base) if cart else (None, [])
        ctx["discount"] = enrollment.data.get("discount")
    return ctx


def store_info(settings: Settings) -> dict[str, str]:
    return {
        "name": settings.email_from_name,
        "url": settings.store_url,
        "support_email": settings.support_email,
        "support_phone": settings.support_phone,
    }


def variant_info(session: Session, variant: Variant, base: str) -> dict[str, Any]:
    product = session.get(Product, variant.product_id)
    info = {
        "sku": variant.sku,
        "title": variant.title,
        "price_cents": variant.price_cents,
        "currency": variant.currency,
        "inventory": variant.inventory,
        "url": product.url if product else "",
        "cart_url": f"{base}/buy/{variant.sku}",
        "_product": {
            "title": product.title if product else variant.sku,
            "url": product.url if product else "",
            "image_url": product.image_url if product else "",
            "category": product.category if product else "general",
            "handle": product.handle if product else "",
        },
    }
    return info


def order_lines(session: Session, order_id: int) -> list[dict[str, Any]]:
    rows = session.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
    return [_line(session, line.variant_id, line.quantity, line.price_cents) for line in rows]


def _line(session: Session, variant_id: int, quantity: int, price_cents: int) -> dict[str, Any]:
    variant = session.get(Variant, variant_id)
    info = variant_info(session, variant, "")  # type: ignore[arg-type]
    product = info["_product"]
    return {
        "sku": info["sku"],
        "title": f"{product['title']} {info['title']}".strip(),
        "product_title": product["title"],
        "quantity": quantity,
        "price_cents": price_cents or info["price_cents"],
        "currency": info["currency"],
        "url": product["url"],
        "image_url": product["image_url"],
        "category": product["category"],
        "_product": product,
        "_variant": info,
    }


def _customer(customer: Customer | None) -> dict[str, Any]:
    if customer is None:
        return {
            "id": None,
            "first_name": "",
            "email": None,
            "phone": None,
            "locale": "en",
            "timezone": "UTC",
            "country": None,
        }
    return {
        "id": customer.external_id,
        "first_name": customer.first_name,
        "email": customer.email,
        "phone": customer.phone,
        "locale": customer.locale,
        "timezone": customer.timezone,
        "country": customer.country,
    }


def _order(order: Order, base: str) -> dict[str, Any]:
    tracking_url = (
        f"https://track.example/{order.carrier or 'parcel'}/{order.tracking_number}"
        if order.tracking_number
        else None
    )
    return {
        "number": order.number,
        "status": order.status,
        "placed_at": order.placed_at,
        "ship_from": order.ship_from,
        "ship_to": order.ship_to,
        "delivery_from": order.delivery_from,
        "delivery_to": order.delivery_to,
        "tracking_number": order.tracking_number,
        "carrier": order.carrier,
        "tracking_url": tracking_url,
        "total_cents": order.total_cents,
        "currency": order.currency,
        "delay_reason": order.delay_reason,
        "delay_fix": order.delay_fix,
        "is_backorder": order.is_backorder,
        "expedite_shipping": order.expedite_shipping,
        "url": f"{base}/orders/{order.number}",
    }


def _cart(session: Session, cart: Cart, base: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = []
    for line in cart.lines:
        variant = session.exec(select(Variant).where(Variant.sku == line["sku"])).first()
        if variant is not None:
            lines.append(_line(session, variant.id, line["quantity"], line["price_cents"]))  # type: ignore[arg-type]
    total = sum(line["price_cents"] * line["quantity"] for line in lines)
    currency = lines[0]["currency"] if lines else "USD"
    info = {
        "token": cart.token,
        "url": f"{base}/cart/{cart.token}",
        "checkout_url": f"{base}/cart/{cart.token}/checkout",
        "total_cents": total,
        "currency": currency,
    }
    return info, lines

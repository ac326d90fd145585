"""The names a template or condition sees for one enrollment (see ``spec/context.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pendulum
from sqlmodel import Session, func, select

from journeykit.foundation.models import (
    Cart,
    Customer,
    DomainEvent,
    Enrollment,
    Order,
    OrderLine,
    Product,
    StoreCredit,
    Variant,
)
from journeykit.foundation.settings import Settings, StoreSettings
from journeykit.language.journey import Journey
from journeykit.messaging import store_links
from journeykit.messaging.compliance import GROUP_CACHE
from journeykit.store.substitutes import partial_split, substitute_for_order


def build_context(
    session: Session, *, settings: Settings, journey: Journey, enrollment: Enrollment, now: datetime
) -> dict[str, Any]:
    customer = group_customer(session, enrollment.customer_id)
    tz = customer.timezone if customer else "UTC"
    locale = customer.locale if customer else "en"
    ctx: dict[str, Any] = {
        "customer": _customer(customer),
        "store": _store_info(session, settings),
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
        "now": _local_now(session, now, tz),
    }
    subject = dict(part.split(":", 1) for part in enrollment.subject_key.split("|"))
    if journey.subject == "order":
        order = session.exec(select(Order).where(Order.number == subject["order"])).first()
        lines = order_lines(session, order.id, settings.store) if order else []  # type: ignore[arg-type]
        ctx["order"] = _order(order, settings) if order else None
        ctx["lines"] = lines
        ctx["product"] = lines[0]["_product"] if lines else None
        ctx["variant"] = lines[0]["_variant"] if lines else None
        ctx.update(order_choices(session, order, settings.store) if order else _NO_CHOICES)
    elif journey.subject == "sku":
        ctx.update(_sku_part(session, subject["sku"], settings.store))
    elif journey.subject == "cart":
        cart = session.exec(select(Cart).where(Cart.token == subject["cart"])).first()
        ctx["cart"], ctx["lines"] = _cart(session, cart, settings) if cart else (None, [])
        ctx["discount"] = enrollment.data.get("discount")
    return ctx


# the group cache's customers by id (loaded with the group's enrollments, kept for its length:
# the identity map keeps rows only while referenced, and ``session.get`` costs a lookup)
CUSTOMERS = "customers"


def group_customer(session: Session, customer_id: int | None) -> Customer | None:
    """The customer ``customer_id``: from the node group's customers, else the session."""
    if customer_id is None:
        return None
    known = (session.info.get(GROUP_CACHE) or {}).get(CUSTOMERS)
    if known is not None and customer_id in known:
        return known[customer_id]
    return session.get(Customer, customer_id)


def _sku_part(session: Session, sku: str, store: StoreSettings) -> dict[str, Any]:
    """``variant`` and ``product`` of a ``sku`` subject: within a node group built once per
    subject and shared by its enrollments' contexts (templates cannot change them: the
    sandbox is immutable)."""
    cache = session.info.get(GROUP_CACHE)
    if cache is not None and ("sku_part", sku) in cache:
        return cache[("sku_part", sku)]
    variant = _variant_by_sku(session, sku)
    info = variant_info(session, variant, store) if variant else None
    part = {"variant": info, "product": info["_product"] if info else None}
    if cache is not None:
        cache[("sku_part", sku)] = part
    return part


def _local_now(session: Session, now: datetime, tz: str) -> pendulum.DateTime:
    """``now`` in ``tz`` (immutable: converted once per zone within a node group)."""
    cache = session.info.get(GROUP_CACHE)
    if cache is None:
        return pendulum.instance(now).in_timezone(tz)
    key = ("now", now, tz)
    if key not in cache:
        cache[key] = pendulum.instance(now).in_timezone(tz)
    return cache[key]


def _variant_by_sku(session: Session, sku: str) -> Variant | None:
    """The variant for ``sku``; within a node group looked up once (the same row, from the
    session's identity map, that the query would return for every enrollment)."""
    cache = session.info.get(GROUP_CACHE)
    if cache is not None and ("variant", sku) in cache:
        return cache[("variant", sku)]
    variant = session.exec(select(Variant).where(Variant.sku == sku)).first()
    if cache is not None and variant is not None:
        cache[("variant", sku)] = variant
    return variant


def _product(session: Session, product_id: int) -> Product | None:
    """``session.get`` held for the node group: the identity map keeps rows only while
    something references them, so without this every enrollment would query again."""
    cache = session.info.get(GROUP_CACHE)
    if cache is not None and ("product", product_id) in cache:
        return cache[("product", product_id)]
    product = session.get(Product, product_id)
    if cache is not None and product is not None:
        cache[("product", product_id)] = product
    return product


_NO_CHOICES: dict[str, Any] = {"substitute": None, "partial": None}


def order_choices(session: Session, order: Order, store: StoreSettings) -> dict[str, Any]:
    """D2/D4: the relevant in-stock substitute for the delayed line and the partial-shipment
    split (None when there is none), plus what the order already has: its store credit and
    how many times its date has slipped."""

    plan = substitute_for_order(session, order)
    substitute = None
    if plan is not None:
        variant = session.exec(select(Variant).where(Variant.sku == plan["to"])).one()
        info = variant_info(session, variant, store)
        substitute = {**info, "title": f"{info['_product']['title']} {variant.title}".strip()}
    credit = session.exec(select(StoreCredit).where(StoreCredit.order_id == order.id)).first()
    slips = session.exec(
        select(func.count())
        .select_from(DomainEvent)
        .where(
            DomainEvent.type == "order.delayed", DomainEvent.subject_key == f"order:{order.number}"
        )
    ).one()
    return {
        "substitute": substitute,
        "partial": partial_split(session, order),
        "order_history": {
            "credit": {"code": credit.code, "amount_cents": credit.amount_cents}
            if credit
            else None,
            "slips": int(slips),
        },
    }


def _store_info(session: Session, settings: Settings) -> dict[str, str]:
    cache = session.info.get(GROUP_CACHE)
    if cache is None:
        return store_info(settings)
    if "store" not in cache:
        cache["store"] = store_info(settings)
    return cache["store"]


def store_info(settings: Settings) -> dict[str, str]:
    return {
        "name": settings.store.name,
        "url": settings.store.url,
        "support_email": settings.store.support_email,
        "support_phone": settings.store.support_phone,
        "postal_address": settings.store.postal_address,
        "optout_phone": settings.store.optout_phone,
        "timezone": settings.store.timezone,
        "discount_parameter": settings.store.discount_parameter,
    }


def variant_info(session: Session, variant: Variant, store: StoreSettings | None) -> dict[str, Any]:
    product = _product(session, variant.product_id)
    info = {
        "sku": variant.sku,
        "title": variant.title,
        "price_cents": variant.price_cents,
        "currency": variant.currency,
        "inventory": variant.inventory,
        "url": product.url if product else "",
        # "buy now": straight to the store's checkout with this one item
        "cart_url": store_links.checkout_url(store, "", [(variant.sku, 1)]) if store else "",
        "_product": {
            "title": product.title if product else variant.sku,
            "url": product.url if product else "",
            "image_url": product.image_url if product else "",
            "category": product.category if product else "general",
            "handle": product.handle if product else "",
            "days_to_use": product.days_to_use if product else 14,
        },
    }
    return info


def order_lines(
    session: Session, order_id: int, store: StoreSettings | None = None
) -> list[dict[str, Any]]:
    rows = session.exec(select(OrderLine).where(OrderLine.order_id == order_id)).all()
    return [
        _line(session, line.variant_id, line.quantity, line.price_cents, store) for line in rows
    ]


def _line(
    session: Session,
    variant_id: int,
    quantity: int,
    price_cents: int,
    store: StoreSettings | None = None,
) -> dict[str, Any]:
    variant = session.get(Variant, variant_id)
    info = variant_info(session, variant, store)  # type: ignore[arg-type]
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


def _order(order: Order, settings: Settings) -> dict[str, Any]:
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
        "delivered_at": order.delivered_at,
        "tags": list(order.tags),
        "is_backorder": order.is_backorder,
        "expedite_shipping": order.expedite_shipping,
        "url": store_links.order_url(settings.store, order.number),
    }


def _cart(
    session: Session, cart: Cart, settings: Settings
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = []
    for line in cart.lines:
        variant = session.exec(select(Variant).where(Variant.sku == line["sku"])).first()
        if variant is not None:
            lines.append(
                _line(session, variant.id, line["quantity"], line["price_cents"], settings.store)  # type: ignore[arg-type]
            )
    total = sum(line["price_cents"] * line["quantity"] for line in lines)
    items = [(str(line["sku"]), int(line["quantity"])) for line in cart.lines]
    currency = lines[0]["currency"] if lines else "USD"
    info = {
        "token": cart.token,
        "url": store_links.cart_url(settings.store, cart.token, items),
        "checkout_url": store_links.checkout_url(settings.store, cart.token, items),
        "total_cents": total,
        "currency": currency,
    }
    return info, lines

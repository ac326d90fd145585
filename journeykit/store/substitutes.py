"""D4: a substitute must be relevant to the delayed product. Another variant of the same
product first, then the same category; in stock; priced within ``PRICE_BAND`` of it; the
closest price wins. Never a product of another category (no swimwear for sunglasses), and
never another size: a variant's options are its title's parts as the store names them
(Shopify: ``"Navy / L"``); its size (``L``, ``32``, ``EU 42``) must be the substitute's too (a
size L parka is never offered an M). Another variant of the same product may differ in its
other options (the black aviators for the gold ones); another product must match every
option given (size and colour)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, col, select

from journeykit.foundation.models import Order, OrderLine, Product, Variant

PRICE_BAND = 0.35


SIZE = re.compile(
    r"^(?:x{0,3}s|m|x{0,3}l|[2-6]xl|one size|os|\d+(?:\.\d+)?(?:\s?x\s?\d+)?"
    r"|(?:eu|us|uk|jp|fr|it)\s?\d+(?:\.\d+)?)$"
)


def variant_options(variant: Variant) -> frozenset[str]:
    """The option values a variant's title names ("Black / L" -> {"black", "l"})."""
    parts = (part.strip().casefold() for part in variant.title.split("/"))
    return frozenset(part for part in parts if part and part != "default title")


def sizes(options: frozenset[str]) -> frozenset[str]:
    return frozenset(option for option in options if SIZE.match(option))


def options_fit(ordered: Variant, candidate: Variant) -> bool:
    """The candidate keeps the ordered size; another product keeps every option given."""
    wanted, offered = variant_options(ordered), variant_options(candidate)
    if candidate.product_id == ordered.product_id:
        return sizes(wanted) == sizes(offered)
    return wanted <= offered and sizes(wanted) == sizes(offered)


def find_substitute(session: Session, variant: Variant) -> Variant | None:
    product = session.get(Product, variant.product_id)
    if product is None:
        return None
    rows = session.exec(
        select(Variant, Product)
        .join(Product, col(Product.id) == Variant.product_id)
        .where(Product.category == product.category, Variant.inventory > 0)
        .where(Variant.id != variant.id)
    ).all()
    low, high = variant.price_cents * (1 - PRICE_BAND), variant.price_cents * (1 + PRICE_BAND)
    close = [
        (v, p)
        for v, p in rows
        if (not variant.price_cents or low <= v.price_cents <= high) and options_fit(variant, v)
    ]
    if not close:
        return None
    close.sort(
        key=lambda vp: (
            vp[1].id != product.id,
            abs(vp[0].price_cents - variant.price_cents),
            vp[0].sku,
        )
    )
    return close[0][0]


def delayed_line(session: Session, order: Order) -> tuple[OrderLine, Variant] | None:
    """The first line of the order that cannot ship now (no stock)."""
    lines = session.exec(
        select(OrderLine, Variant)
        .join(Variant, col(Variant.id) == OrderLine.variant_id)
        .where(OrderLine.order_id == order.id)
        .order_by(col(OrderLine.id))
    ).all()
    for line, variant in lines:
        if variant.inventory < line.quantity:
            return line, variant
    return (lines[0][0], lines[0][1]) if len(lines) == 1 else None


def partial_split(session: Session, order: Order) -> dict[str, list[str]] | None:
    """Lines that could ship now and lines that wait; None unless both exist."""
    now: list[str] = []
    later: list[str] = []
    for line, variant in session.exec(
        select(OrderLine, Variant)
        .join(Variant, col(Variant.id) == OrderLine.variant_id)
        .where(OrderLine.order_id == order.id)
    ).all():
        product = session.get(Product, variant.product_id)
        title = f"{product.title if product else variant.sku} {variant.title}".strip()
        (now if variant.inventory >= line.quantity else later).append(title)
    return {"now": now, "later": later} if now and later else None


def substitute_for_order(session: Session, order: Order) -> dict[str, Any] | None:
    """(delayed line's variant, substitute variant) for an order, as ids."""
    found = delayed_line(session, order)
    if found is None:
        return None
    substitute = find_substitute(session, found[1])
    if substitute is None:
        return None
    return {"line_id": found[0].id, "from": found[1].sku, "to": substitute.sku}

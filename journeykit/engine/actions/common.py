"""Helpers the built-in actions share: the enrollment's order, codes, its customer key."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import col, select

from journeykit.engine.nodes.call import ActionContext
from journeykit.models import Cart, Customer, Order, OrderLine


def order_of(ctx: ActionContext) -> Order:
    """The order an order-subject enrollment is about."""
    number = ctx.enrollment.subject_key.split("|")[0].removeprefix("order:")
    return ctx.session.exec(select(Order).where(Order.number == number)).one()


def new_code(prefix: str, ctx: ActionContext) -> str:
    return f"{prefix}-{ctx.enrollment.id}-{secrets.token_hex(3).upper()}"


def external_id(session: Any, customer_id: int) -> str:
    customer = session.get(Customer, customer_id)
    return customer.external_id if customer else str(customer_id)


def bought_since(session: Any, customer_id: int, variant_id: int, sku: str, since: Any) -> bool:
    """The customer ordered the variant, or checked out a cart holding it, since ``since``."""
    ordered = session.exec(
        select(OrderLine.id)
        .join(Order, col(Order.id) == OrderLine.order_id)
        .where(
            Order.customer_id == customer_id,
            OrderLine.variant_id == variant_id,
            col(Order.placed_at) >= since,
            Order.status != "cancelled",
        )
    ).first()
    if ordered is not None:
        return True
    carts = session.exec(
        select(Cart).where(
            Cart.customer_id == customer_id,
            Cart.status == "checked_out",
            col(Cart.checked_out_at) >= since,
        )
    ).all()
    return any(line.get("sku") == sku for cart in carts for line in cart.lines)

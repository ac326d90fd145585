"""Helpers the built-in actions share: the enrollment's order, codes, its customer key."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from journeykit.engine.nodes.call import ActionContext
from journeykit.foundation.models import Cart, Customer, Order, OrderLine


def order_of(ctx: ActionContext) -> Order:
    """The order an order-subject enrollment is about."""
    number = ctx.enrollment.subject_key.split("|")[0].removeprefix("order:")
    return ctx.session.exec(select(Order).where(Order.number == number)).one()


def new_code(prefix: str, ctx: ActionContext) -> str:
    return f"{prefix}-{ctx.enrollment.id}-{secrets.token_hex(3).upper()}"


def external_ids(session: Any, customer_ids: Iterable[int]) -> dict[int, str]:
    """The store's ids of many customers, in one query."""
    ids = list(set(customer_ids))
    rows = session.exec(
        select(Customer.id, Customer.external_id).where(col(Customer.id).in_(ids))
    ).all()
    return {int(cid): ext for cid, ext in rows}


def buyers_since(session: Any, variant_id: int, sku: str, since: dict[int, Any]) -> set[int]:
    """Customers (keys of ``since``) who ordered the variant, or checked out a cart holding
    it, at or after their own ``since`` time; two queries for any number of customers."""
    if not since:
        return set()
    earliest = min(since.values())
    ids = list(since)
    bought: set[int] = set()
    # the variant is compared here: given `variant_id = ?`, SQLite reads every order line of
    # the variant (a popular product's, for every chunk of its line) instead of the
    # customers' orders by their index
    for customer_id, placed_at, line_variant in session.exec(
        select(Order.customer_id, Order.placed_at, OrderLine.variant_id)
        .join(OrderLine, col(OrderLine.order_id) == Order.id)
        .where(
            col(Order.customer_id).in_(ids),
            col(Order.placed_at) >= earliest,
            Order.status != "cancelled",
        )
    ).all():
        if line_variant == variant_id and placed_at >= since[customer_id]:
            bought.add(customer_id)
    for cart in session.exec(
        select(Cart).where(
            col(Cart.customer_id).in_(ids),
            Cart.status == "checked_out",
            col(Cart.checked_out_at) >= earliest,
        )
    ).all():
        after = cart.checked_out_at is not None and cart.checked_out_at >= since[cart.customer_id]
        if after and any(line.get("sku") == sku for line in cart.lines):
            bought.add(cart.customer_id)
    return bought

"""Review-request actions: ask once (P1: one ask per customer per window, the products of
every order delivered in the window asked together) and help first, as a support ticket (P2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pendulum
from sqlmodel import col, select

from journeykit.actions.common import order_of
from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import action
from journeykit.foundation.models import (
    Enrollment,
    Order,
    OrderLine,
    Product,
    SupportTicket,
    Variant,
)

DEFAULT_ASK_ONCE_DAYS = 30


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    moment = pendulum.parse(str(value))
    return moment if isinstance(moment, datetime) else None


def products_of(ctx: ActionContext, numbers: list[str]) -> list[dict[str, Any]]:
    """The distinct products of the orders, in order: id, title and the order they came in."""
    rows = ctx.session.exec(
        select(Order.number, Product.id, Product.title)
        .join(OrderLine, col(OrderLine.order_id) == Order.id)
        .join(Variant, col(Variant.id) == OrderLine.variant_id)
        .join(Product, col(Product.id) == Variant.product_id)
        .where(col(Order.number).in_(numbers))
        .order_by(col(OrderLine.id))
    ).all()
    rank = {number: i for i, number in enumerate(numbers)}
    seen: dict[int, dict[str, Any]] = {}
    for number, product_id, title in sorted(rows, key=lambda r: rank[r[0]]):
        seen.setdefault(product_id or 0, {"id": product_id, "title": title, "order": number})
    return list(seen.values())


@action("review_ask_scope")
def review_ask_scope(ctx: ActionContext) -> dict[str, Any]:
    """P1 ask once: whether another order's enrollment of this journey already asked this
    customer within ``settings.ask_once_days`` (then this one does not ask), else the orders
    delivered within the window whose products this ask covers (``review_orders``)."""
    days = int(ctx.settings.get("ask_once_days", DEFAULT_ASK_ONCE_DAYS))
    since = ctx.now - timedelta(days=days)
    others = ctx.session.exec(
        select(Enrollment).where(
            Enrollment.journey == ctx.journey.name,
            Enrollment.customer_id == ctx.enrollment.customer_id,
            Enrollment.id != ctx.enrollment.id,
        )
    ).all()
    for other in others:
        asked_at = _when(other.data.get("review_asked_at"))
        covered = ctx.enrollment.subject_key.split("|")[0].removeprefix("order:") in (
            other.data.get("review_orders") or []
        )
        if asked_at is not None and (asked_at >= since or covered):
            return {"asked_recently": True, "asked_by": other.id}
    order = order_of(ctx)
    delivered = ctx.session.exec(
        select(Order.number)
        .where(
            Order.customer_id == order.customer_id,
            Order.status != "cancelled",
            col(Order.delivered_at).is_not(None),
            col(Order.delivered_at) >= since,
        )
        .order_by(col(Order.delivered_at))
    ).all()
    numbers = list(dict.fromkeys([order.number, *delivered]))
    return {
        "asked_recently": False,
        "review_orders": numbers,
        "review_products": products_of(ctx, numbers),
        "review_asked_at": ctx.now.isoformat(),
    }


@action("open_ticket")
def open_ticket(ctx: ActionContext) -> dict[str, Any]:
    """A support ticket for the customer (and the order), with what they told us."""
    order = order_of(ctx) if ctx.enrollment.subject_type == "order" else None
    note = str((ctx.enrollment.data.get("last_event") or {}).get("message", ""))
    ticket = SupportTicket(
        customer_id=ctx.enrollment.customer_id,  # type: ignore[arg-type]
        order_id=order.id if order else None,
        message=note,
        opened_at=ctx.now,
    )
    ctx.session.add(ticket)
    ctx.session.flush()
    return {"ticket_id": ticket.id}


@action("mark_satisfied")
def mark_satisfied(ctx: ActionContext) -> dict[str, Any]:
    """P2: the customer said the problem is solved to their satisfaction."""
    ticket_id = ctx.enrollment.data.get("ticket_id")
    ticket = ctx.session.get(SupportTicket, ticket_id) if ticket_id else None
    if ticket is not None:
        ticket.status = "satisfied"
        ctx.session.add(ticket)
    return {"satisfied": True}

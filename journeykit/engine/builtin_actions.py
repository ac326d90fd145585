"""Actions and audiences every journey can use. Registered on import. Each writes only
through the step's session, so it commits (or not) with the step."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import action, audience
from journeykit.models import (
    Customer,
    DomainEvent,
    Order,
    OrderLine,
    RestockSignup,
    StoreCredit,
    SupportTicket,
    Variant,
)


def _order(ctx: ActionContext) -> Order:
    number = ctx.enrollment.subject_key.split("|")[0].removeprefix("order:")
    order = ctx.session.exec(select(Order).where(Order.number == number)).one()
    return order


def _code(prefix: str, ctx: ActionContext) -> str:
    return f"{prefix}-{ctx.enrollment.id}-{secrets.token_hex(3).upper()}"


@action("cancel_order")
def cancel_order(ctx: ActionContext) -> dict[str, Any]:
    order = _order(ctx)
    order.refund_requested = True
    ctx.session.add(order)
    # marks the order cancelled and takes it out of every other journey about it
    ctx.emit({"type": "order.cancelled", "order_number": order.number})
    return {"cancelled": True}


@action("expedite_shipping")
def expedite_shipping(ctx: ActionContext) -> dict[str, Any]:
    order = _order(ctx)
    order.expedite_shipping = True
    order.tags = sorted({*order.tags, "expedite-free"})
    ctx.session.add(order)
    return {"expedited": True}


@action("issue_store_credit")
def issue_store_credit(
    ctx: ActionContext, percent: int = 10, valid_days: int = 90
) -> dict[str, Any]:
    order = _order(ctx)
    existing = ctx.session.exec(select(StoreCredit).where(StoreCredit.order_id == order.id)).first()
    credit = existing or StoreCredit(
        customer_id=order.customer_id,
        order_id=order.id,
        code=_code("CREDIT", ctx),
        amount_cents=max(100, order.total_cents * int(percent) // 100),
        currency=order.currency,
        issued_at=ctx.now,
    )
    ctx.session.add(credit)
    return {
        "credit": {
            "code": credit.code,
            "amount_cents": credit.amount_cents,
            "currency": credit.currency,
            "expires_at": (ctx.now + timedelta(days=int(valid_days))).isoformat(),
        }
    }


@action("tag_backorder")
def tag_backorder(ctx: ActionContext) -> dict[str, Any]:
    order = _order(ctx)
    order.tags = sorted({*order.tags, "backorder"})
    ctx.session.add(order)
    customer = ctx.session.get(Customer, order.customer_id)
    if customer is not None:
        customer.tags = sorted({*customer.tags, "backorder"})
        ctx.session.add(customer)
    return {"tagged": "backorder"}


@action("open_ticket")
def open_ticket(ctx: ActionContext) -> dict[str, Any]:
    order = _order(ctx) if ctx.enrollment.subject_type == "order" else None
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


@action("issue_discount")
def issue_discount(ctx: ActionContext, percent: int = 10) -> dict[str, Any]:
    return {"discount": {"code": _code("SAVE", ctx), "percent": int(percent)}}


@action("mark_restock_alerted")
def mark_restock_alerted(ctx: ActionContext) -> dict[str, Any]:
    ids = ctx.enrollment.data.get("signup_ids", [])
    for signup in ctx.session.exec(
        select(RestockSignup).where(col(RestockSignup.id).in_(ids))
    ).all():
        signup.status, signup.alerted_at = "alerted", ctx.now
        ctx.session.add(signup)
    return {"alerted": len(ids)}


@audience("restock_signups")
def restock_signups(*, session: Any, journey: Any, event: DomainEvent, now: Any) -> list[Any]:
    """R3: no alert below ``min_restock_quantity``; at most ``subscribers_per_unit`` x units
    customers per wave, first come first served; signups older than ``max_wait_days``
    expire; customers who bought the item since signing up are skipped."""
    from journeykit.engine.route import AudienceMember

    settings = journey.settings
    sku, quantity = event.data["sku"], int(event.data["quantity"])
    if quantity < int(settings.get("min_restock_quantity", 1)):
        return []
    variant = session.exec(select(Variant).where(Variant.sku == sku)).one()
    oldest = now - timedelta(days=int(settings.get("max_wait_days", 60)))
    waiting = session.exec(
        select(RestockSignup)
        .where(RestockSignup.variant_id == variant.id, RestockSignup.status == "waiting")
        .order_by(col(RestockSignup.created_at), col(RestockSignup.id))
    ).all()
    by_customer: dict[int, list[RestockSignup]] = {}
    for signup in waiting:
        if signup.created_at < oldest:
            signup.status = "expired"
            session.add(signup)
        elif _bought_since(session, signup.customer_id, variant.id, signup.created_at):
            signup.status = "bought"
            session.add(signup)
        else:
            by_customer.setdefault(signup.customer_id, []).append(signup)
    limit = quantity * int(settings.get("subscribers_per_unit", 3))
    members = []
    for customer_id, signups in list(by_customer.items())[:limit]:
        channels = sorted({s.channel for s in signups})
        members.append(
            AudienceMember(
                customer_id,
                f"sku:{sku}|customer:{_external(session, customer_id)}",
                {"channels": channels, "signup_ids": [s.id for s in signups]},
            )
        )
    return members


def _external(session: Any, customer_id: int) -> str:
    return session.get(Customer, customer_id).external_id


def _bought_since(session: Any, customer_id: int, variant_id: int, since: Any) -> bool:
    row = session.exec(
        select(OrderLine.id)
        .join(Order, col(Order.id) == OrderLine.order_id)
        .where(
            Order.customer_id == customer_id,
            OrderLine.variant_id == variant_id,
            col(Order.placed_at) >= since,
        )
    ).first()
    return row is not None

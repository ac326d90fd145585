"""Commerce actions: the delay-apology choices (D2), backorder tagging (B6) and the
abandoned-cart one-time discount (C1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from journeykit.actions.common import new_code, order_of
from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import action
from journeykit.foundation.models import Customer, OrderLine, StoreCredit, Variant
from journeykit.store.substitutes import partial_split, substitute_for_order


@action("cancel_order", emits=["order.cancelled"])
def cancel_order(ctx: ActionContext) -> dict[str, Any]:
    order = order_of(ctx)
    order.refund_requested = True
    ctx.session.add(order)
    # marks the order cancelled and takes it out of every other journey about it
    ctx.emit({"type": "order.cancelled", "order_number": order.number})
    return {"cancelled": True}


@action("expedite_shipping")
def expedite_shipping(ctx: ActionContext) -> dict[str, Any]:
    order = order_of(ctx)
    order.expedite_shipping = True
    order.tags = sorted({*order.tags, "expedite-free"})
    ctx.session.add(order)
    return {"expedited": True}


CREDIT_ACTION = "issue_store_credit"
DEFAULT_CREDIT_PERCENT = 10


def credit_amount_cents(total_cents: int, percent: int) -> int:
    """The store credit for an order (D2): ``percent`` of its total, at least 1.00."""
    return max(100, total_cents * int(percent) // 100)


@action(CREDIT_ACTION)
def issue_store_credit(
    ctx: ActionContext, percent: int = DEFAULT_CREDIT_PERCENT, valid_days: int = 90
) -> dict[str, Any]:
    """Store credit usable now; one per order (a second slip never doubles it)."""
    order = order_of(ctx)
    existing = ctx.session.exec(select(StoreCredit).where(StoreCredit.order_id == order.id)).first()
    credit = existing or StoreCredit(
        customer_id=order.customer_id,
        order_id=order.id,
        code=new_code("CREDIT", ctx),
        amount_cents=credit_amount_cents(order.total_cents, percent),
        currency=order.currency,
        issued_at=ctx.now,
    )
    ctx.session.add(credit)
    issued = existing.issued_at if existing else ctx.now
    return {
        "credit": {
            "code": credit.code,
            "amount_cents": credit.amount_cents,
            "currency": credit.currency,
            "expires_at": (issued + timedelta(days=int(valid_days))).isoformat(),
        }
    }


@action("switch_to_substitute")
def switch_to_substitute(ctx: ActionContext) -> dict[str, Any]:
    """D2/D4: swap the delayed line for the relevant in-stock substitute; ships normally."""
    order = order_of(ctx)
    plan = substitute_for_order(ctx.session, order)
    if plan is None:
        return {"substitute_unavailable": True}
    line = ctx.session.get(OrderLine, plan["line_id"])
    target = ctx.session.exec(select(Variant).where(Variant.sku == plan["to"])).one()
    assert line is not None
    line.variant_id = target.id  # type: ignore[assignment]
    order.tags = sorted({*order.tags, "switched-to-substitute"})
    ctx.session.add_all([line, order])
    return {"switched": {"from": plan["from"], "to": plan["to"]}}


@action("ship_partial")
def ship_partial(ctx: ActionContext) -> dict[str, Any]:
    """D2: ship what is in stock now, the rest when it arrives (no extra shipping cost)."""
    order = order_of(ctx)
    split = partial_split(ctx.session, order)
    order.tags = sorted({*order.tags, "ship-partial"})
    ctx.session.add(order)
    return {"partial_shipment": split or {}}


@action("tag_backorder")
def tag_backorder(ctx: ActionContext) -> dict[str, Any]:
    """B6: the order and the customer carry the ``backorder`` tag (support, reports)."""
    order = order_of(ctx)
    order.tags = sorted({*order.tags, "backorder"})
    ctx.session.add(order)
    customer = ctx.session.get(Customer, order.customer_id)
    if customer is not None:
        customer.tags = sorted({*customer.tags, "backorder"})
        ctx.session.add(customer)
    return {"tagged": "backorder"}


@action("issue_discount")
def issue_discount(ctx: ActionContext, percent: int = 10) -> dict[str, Any]:
    """C1: a single-use code for this cart; it expires with the message's offer."""
    return {"discount": {"code": new_code("SAVE", ctx), "percent": int(percent)}}

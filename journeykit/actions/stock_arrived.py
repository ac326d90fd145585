"""B4(1): the moment stock arrives for a sku, tell the people waiting for it. Two audiences
on ``inventory.changed`` (stock going from none to some): backorder orders holding the sku
(``backorder_stock_arrived``) and open carts holding it (``cart_back_in_stock``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from journeykit.actions.common import buyers_since
from journeykit.actions.restock import previous_quantity
from journeykit.engine.registry import audience
from journeykit.engine.route import AudienceMember
from journeykit.foundation.models import Cart, DomainEvent, Order, OrderLine, RestockSignup, Variant


def _arrived(session: Session, event: DomainEvent) -> Variant | None:
    """The variant when this event is stock arriving (none before, some now)."""
    sku, quantity = event.data["sku"], int(event.data["quantity"])
    if quantity <= 0 or previous_quantity(session, event, sku) > 0:
        return None
    return session.exec(select(Variant).where(Variant.sku == sku)).first()


@audience("backorders_with_sku")
def backorders_with_sku(*, session: Any, journey: Any, event: DomainEvent, now: Any) -> list[Any]:
    """Backorder orders not yet processed that hold the arrived sku; tagged stock-arrived."""

    variant = _arrived(session, event)
    if variant is None:
        return []
    orders = session.exec(
        select(Order)
        .join(OrderLine, col(OrderLine.order_id) == Order.id)
        .where(OrderLine.variant_id == variant.id, Order.is_backorder, Order.status == "placed")
        .order_by(col(Order.placed_at), col(Order.id))
    ).all()
    members, seen = [], set()
    for order in orders:
        if order.id in seen:
            continue
        seen.add(order.id)
        order.tags = sorted({*order.tags, "stock-arrived"})
        session.add(order)
        members.append(AudienceMember(order.customer_id, f"order:{order.number}", {}))
    return members


@audience("carts_with_sku")
def carts_with_sku(*, session: Any, journey: Any, event: DomainEvent, now: Any) -> list[Any]:
    """Open carts idle for ``cart_idle_hours`` and younger than ``cart_max_age_days`` that
    hold the arrived sku, of shoppers who have not bought it since and are not already
    getting a back-in-stock alert for it (restock sign-up in line)."""

    variant = _arrived(session, event)
    if variant is None:
        return []
    settings = journey.settings
    idle = now - timedelta(hours=int(settings.get("cart_idle_hours", 1)))
    oldest = now - timedelta(days=int(settings.get("cart_max_age_days", 30)))
    carts = session.exec(
        select(Cart)
        .where(Cart.status == "open", col(Cart.updated_at) <= idle, col(Cart.updated_at) >= oldest)
        .order_by(col(Cart.updated_at), col(Cart.id))
    ).all()
    with_sku = [c for c in carts if any(line.get("sku") == variant.sku for line in c.lines)]
    # only these carts' shoppers: the variant's whole line can be 1,000,000 sign-ups
    shoppers = sorted({c.customer_id for c in with_sku if c.customer_id is not None})
    signed_up: set[int] = set()
    for low in range(0, len(shoppers), 500):
        signed_up.update(
            session.exec(
                select(RestockSignup.customer_id).where(
                    RestockSignup.variant_id == variant.id,
                    col(RestockSignup.status).in_(("waiting", "queued", "alerted")),
                    col(RestockSignup.customer_id).in_(shoppers[low : low + 500]),
                )
            ).all()
        )
    holding = [cart for cart in with_sku if cart.customer_id not in signed_up]
    since: dict[int, Any] = {}
    for cart in holding:
        since[cart.customer_id] = min(since.get(cart.customer_id, cart.updated_at), cart.updated_at)
    bought = buyers_since(session, variant.id, variant.sku, since)  # type: ignore[arg-type]
    members = []
    for cart in holding:
        if cart.customer_id in bought:
            continue
        members.append(AudienceMember(cart.customer_id, f"cart:{cart.token}", {"sku": variant.sku}))
    return members

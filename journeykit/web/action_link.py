"""What an action link is about: the signed claim, the enrollment, customer and order it
names, and the idempotency key that makes acting twice harmless."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from journeykit.foundation.models import Customer, Enrollment, Order, OrderLine, Product, Variant
from journeykit.messaging.signed_links import ActionClaim, LinkError, read_action


@dataclass
class LinkView:
    claim: ActionClaim
    enrollment: Enrollment
    customer: Customer
    order: Order | None
    lines: list[dict[str, Any]] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)

    @property
    def key(self) -> str:
        """One choice per message: every link in one email or SMS shares this key, so a
        second click (the same choice or another) is recognised and does nothing."""
        expires = int(self.claim.expires_at.timestamp()) if self.claim.expires_at else 0
        return f"link:{self.claim.enrollment_id}:{self.claim.node_id}:{expires}"

    @property
    def waiting(self) -> bool:
        """Whether the enrollment is still waiting for this link's action."""
        return (
            self.enrollment.status == "waiting"
            and f"action:{self.claim.action}" in self.enrollment.waiting_for
        )

    @property
    def window(self) -> tuple[str, str] | None:
        if self.order is None or not (self.order.ship_from and self.order.ship_to):
            return None
        return self.order.ship_from.date().isoformat(), self.order.ship_to.date().isoformat()


class LinkNotFound(LookupError):
    """A correctly signed link whose enrollment no longer exists."""


def open_link(session: Session, secret: str, token: str, now: datetime) -> LinkView:
    """The link's view; raises ``LinkError`` (forged, expired) or ``LinkNotFound``."""
    if len(token) > 2000:
        raise LinkError("this link is not valid")
    try:
        claim = read_action(secret, token, now=now)
    except (KeyError, TypeError, ValueError) as exc:  # signed, but not our shape
        if isinstance(exc, LinkError):
            raise
        raise LinkError("this link is not valid") from exc
    enrollment = session.get(Enrollment, claim.enrollment_id)
    customer = session.get(Customer, enrollment.customer_id) if enrollment else None
    if enrollment is None or customer is None:
        raise LinkNotFound(f"enrollment {claim.enrollment_id} is gone")
    order = None
    if enrollment.subject_type == "order":
        number = enrollment.subject_key.split("|")[0].removeprefix("order:")
        order = session.exec(select(Order).where(Order.number == number)).first()
    view = LinkView(claim, enrollment, customer, order)
    if order is not None:
        rows = session.exec(
            select(OrderLine, Variant, Product)
            .join(Variant, col(Variant.id) == col(OrderLine.variant_id))
            .join(Product, col(Product.id) == col(Variant.product_id))
            .where(OrderLine.order_id == order.id)
        ).all()
        for line, _variant, product in rows:
            view.lines.append({"title": product.title, "quantity": line.quantity})
            if product not in view.products:
                view.products.append(product)
    return view

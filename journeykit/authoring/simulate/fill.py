"""Fill a scenario step's event with the scenario's customer and subject, so scenario
files say only what matters (``{at: P0D, event: order.placed}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from journeykit.authoring.simulate.scenario import Scenario, ScenarioCustomer, ScenarioStep
from journeykit.foundation.models import Customer, SupportTicket
from journeykit.language.event_types import CartUpdated, CustomerIn, LineIn
from journeykit.store.sync import apply_event


def customer_payload(customer: ScenarioCustomer) -> dict[str, Any]:
    return customer.model_dump(exclude_none=True)


def fill_event(
    session: Session, scenario: Scenario, step: ScenarioStep, now: datetime
) -> dict[str, Any]:
    customer = scenario.customer_by_id(step.customer)
    subject = scenario.subject
    order = subject.get("order") or {}
    cart = subject.get("cart") or {}
    sku = subject.get("sku") or (order.get("lines") or cart.get("lines") or [{}])[0].get("sku")
    kind = step.event or ""
    base: dict[str, Any]
    if kind == "order.placed":
        base = {"customer": customer_payload(customer), "order": order}
    elif kind.startswith("order."):
        base = {"order_number": order.get("number")}
    elif kind == "inventory.changed":
        base = {"sku": sku}
    elif kind == "cart.updated":
        base = {"customer": customer_payload(customer), "cart": cart}
    elif kind == "checkout.completed":
        base = {"cart_token": cart.get("token", f"buy-{customer.id}-{sku}")}
        if not cart:  # a purchase outside any tracked cart: make one so the event is valid
            _ensure_cart(session, base["cart_token"], customer, sku, now)
    elif kind == "restock.signup":
        base = {"customer": customer_payload(customer), "sku": sku, "channels": ["email"]}
    elif kind == "ticket.solved":
        row = session.exec(select(Customer).where(Customer.external_id == customer.id)).first()
        ticket = session.exec(
            select(SupportTicket.id)
            .where(SupportTicket.customer_id == (row.id if row else -1))
            .order_by(col(SupportTicket.id).desc())
        ).first()
        base = {"ticket_id": ticket}
    else:
        base = {}
    return {"type": kind, **base, **step.data}


def _ensure_cart(
    session: Session, token: str, customer: ScenarioCustomer, sku: str | None, now: datetime
) -> None:

    event = CartUpdated(
        type="cart.updated",
        customer=CustomerIn(**customer_payload(customer)),
        cart={"token": token, "lines": [LineIn(sku=sku)] if sku else []},
    )
    apply_event(session, event, now)

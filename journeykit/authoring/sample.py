"""Sample data for previews: a customer and a subject (order, variant or cart) from the demo
catalog, written to a throwaway SQLite database through the same store updates real events
make, so templates see exactly the names the engine gives them (``engine/context.py``).

A customer file (YAML or JSON; a scenario file works too) may give ``customer``,
``subject`` (``order`` / ``cart`` / ``sku`` as in scenarios), ``data`` (the enrollment's data,
e.g. ``credit``) and ``event`` (the event that woke it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlmodel import Session, select

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.authoring.simulate.scenario import ScenarioCustomer
from journeykit.foundation.models import Customer, Enrollment, Order
from journeykit.language.event_types import parse_event
from journeykit.language.journey import Journey
from journeykit.store.sync import apply_event

SAMPLE_CUSTOMER = ScenarioCustomer(
    id="C-PREVIEW",
    first_name="Alex",
    email="alex@example.com",
    phone="+14155550100",
    timezone="America/New_York",
    consent={"email": True, "sms": True},
)
SAMPLE_ORDER = {
    "number": "1042",
    "lines": [{"sku": "SOFA-SAND", "quantity": 1}, {"sku": "TEE-M", "quantity": 2}],
}
SAMPLE_CART = {
    "token": "preview-cart",
    "lines": [{"sku": "CASE-IP15-CLEAR", "quantity": 1}, {"sku": "TEE-M", "quantity": 2}],
}
SAMPLE_SKU = "SUN-AVIATOR-GOLD"
SAMPLE_EVENT = {
    "reason": "The fabric mill delivered the wrong shade of linen.",
    "fix": "The right fabric ships this week and your place in the workshop queue is kept.",
}


class PreviewInput(BaseModel):
    """What a customer file may say (other keys, e.g. a scenario's ``events``, are ignored)."""

    model_config = ConfigDict(extra="ignore")
    customer: ScenarioCustomer = Field(default_factory=lambda: SAMPLE_CUSTOMER)
    subject: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    event: dict[str, Any] = Field(default_factory=dict)


class SampleError(ValueError):
    """A customer file that cannot be used; the message names the file and the problem."""


def read_customer_file(path: Path) -> PreviewInput:
    try:
        raw = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise SampleError(f"{path}: cannot read it: {exc}") from exc
    if not isinstance(raw, dict):
        raise SampleError(f"{path}: expected a mapping with `customer:` (and `subject:`)")
    try:
        return PreviewInput.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise SampleError(f"{path}: {where}: {problem['msg']}") from exc


def sample_data(journey: Journey, given: PreviewInput) -> dict[str, Any]:
    """The enrollment data a send node may read: what call nodes would have stored."""
    percent = int(journey.settings.get("discount_percent", 10))
    credit_percent = int(journey.settings.get("credit_percent", 10))
    data: dict[str, Any] = {
        "channels": ["email", "sms"],
        "credit": {
            "code": "CREDIT-PREVIEW",
            "amount_cents": 129900 * credit_percent // 100,
            "currency": "USD",
            "expires_at": "2026-06-01T00:00:00+00:00",
        },
        "discount": {"code": "SAVE-PREVIEW", "percent": percent},
        "ticket_id": 4242,
        "event": {**SAMPLE_EVENT, **given.event},
    }
    return {**data, **given.data}


def seed_subject(session: Session, journey: Journey, given: PreviewInput, now: datetime) -> str:
    """Write the catalog, the customer and the journey's subject; returns the subject key."""
    for product in demo_products():
        apply_event(session, parse_event({"type": "product.upserted", "product": product}), now)
    customer = given.customer.model_dump(exclude_none=True)
    kind = journey.subject
    if kind == "order":
        order = {**SAMPLE_ORDER, **(given.subject.get("order") or {})}
        order.setdefault("ship_from", (now + timedelta(days=21)).isoformat())
        order.setdefault("ship_to", (now + timedelta(days=28)).isoformat())
        order.setdefault("is_backorder", True)
        event = {"type": "order.placed", "customer": customer, "order": order}
        apply_event(session, parse_event(event), now)
        row = session.exec(select(Order).where(Order.number == order["number"])).one()
        row.delay_reason = row.delay_reason or SAMPLE_EVENT["reason"]
        row.tracking_number, row.carrier = row.tracking_number or "1Z999AA10123456784", "ups"
        row.delivery_from = row.delivery_from or now + timedelta(days=30)
        row.delivery_to = row.delivery_to or now + timedelta(days=33)
        row.total_cents = row.total_cents or 129900
        session.add(row)
        return f"order:{order['number']}"
    if kind == "cart":
        cart = {**SAMPLE_CART, **(given.subject.get("cart") or {})}
        apply_event(
            session, parse_event({"type": "cart.updated", "customer": customer, "cart": cart}), now
        )
        return f"cart:{cart['token']}"
    if kind == "sku":
        sku = given.subject.get("sku") or SAMPLE_SKU
        apply_event(
            session, parse_event({"type": "inventory.changed", "sku": sku, "quantity": 12}), now
        )
        signup = {"type": "restock.signup", "customer": customer, "sku": sku, "channels": ["email"]}
        apply_event(session, parse_event(signup), now)
        return f"sku:{sku}|customer:{given.customer.id}"
    signup = {"type": "cart.updated", "customer": customer, "cart": {"token": "c", "lines": []}}
    apply_event(session, parse_event(signup), now)
    return f"customer:{given.customer.id}"


def sample_enrollment(
    session: Session, journey: Journey, given: PreviewInput, now: datetime
) -> Enrollment:
    """An enrollment (not stored) standing in the journey for the sample customer."""

    subject_key = seed_subject(session, journey, given, now)
    session.flush()
    customer = session.exec(select(Customer).where(Customer.external_id == given.customer.id)).one()
    data = sample_data(journey, given)
    holder: dict[str, Any] = given.subject.get("cart") or given.subject.get("order") or SAMPLE_CART
    lines = holder.get("lines") or []
    data.setdefault("sku", given.subject.get("sku") or (lines[0]["sku"] if lines else SAMPLE_SKU))
    return Enrollment(
        id=1,
        journey=journey.name,
        version="preview",
        subject_type=journey.subject,
        subject_key=subject_key,
        customer_id=customer.id,
        node_id=journey.start_id,
        data={**data, "last_event": data["event"]},
        entered_at=now,
        updated_at=now,
    )

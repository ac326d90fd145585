"""The domain events Journeykit understands: one pydantic model per type, validated at the
door (CLI ``journeys emit``, ``POST /events``, the simulator). ``subject_keys`` says which
subjects an event is about, so triggers, ``wait_for`` outcomes and ``exit_when`` can match."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from journeykit.timing.clock import aware

# A window end: a calendar date ("2026-03-02") or an instant. Date-only and naive values are
# UTC, so a date-only value is stored as midnight UTC of that day, which templates read back
# as that calendar day in the store's zone (templating/filters.py: calendar_day).
WindowEnd = Annotated[datetime, AfterValidator(aware)]


class Loose(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerIn(Loose):
    id: str = Field(description="the store's customer id")
    email: str | None = None
    phone: str | None = None
    first_name: str = ""
    timezone: str = "UTC"
    locale: str = "en"
    country: str | None = None
    consent: dict[str, bool] = Field(
        default_factory=dict, description="marketing consent per channel, e.g. {email: true}"
    )
    consent_source: str = "store"


class LineIn(Loose):
    sku: str
    quantity: int = Field(1, ge=1)
    price_cents: int = Field(0, ge=0)


class OrderIn(Loose):
    number: str
    lines: list[LineIn] = Field(default_factory=list)
    ship_from: WindowEnd | None = None
    ship_to: WindowEnd | None = None
    delivery_from: WindowEnd | None = None
    delivery_to: WindowEnd | None = None
    total_cents: int = 0
    currency: str = "USD"
    is_backorder: bool = False


class CartIn(Loose):
    token: str
    lines: list[LineIn] = Field(default_factory=list)


class ProductIn(Loose):
    sku: str
    handle: str
    title: str
    variant_title: str = ""
    category: str = "general"
    url: str = ""
    image_url: str = ""
    price_cents: int = 0
    currency: str = "USD"
    inventory: int = 0
    backorderable: bool = False
    days_to_use: int = 14


class ProductUpserted(Loose):
    type: Literal["product.upserted"]
    product: ProductIn


class OrderPlaced(Loose):
    type: Literal["order.placed"]
    customer: CustomerIn
    order: OrderIn


class OrderDelayed(Loose):
    type: Literal["order.delayed"]
    order_number: str
    ship_from: WindowEnd | None = Field(None, description="new window; both empty = unknown")
    ship_to: WindowEnd | None = None
    reason: str = ""
    fix: str = Field("", description="what is being done about it")


class OrderStatus(Loose):
    """processing / shipped / delivered / cancelled."""

    type: Literal["order.processing", "order.shipped", "order.delivered", "order.cancelled"]
    order_number: str
    tracking_number: str | None = None
    carrier: str | None = None


class InventoryChanged(Loose):
    type: Literal["inventory.changed"]
    sku: str
    quantity: int = Field(description="units available now")


class CartUpdated(Loose):
    type: Literal["cart.updated"]
    customer: CustomerIn
    cart: CartIn


class CheckoutCompleted(Loose):
    type: Literal["checkout.completed"]
    cart_token: str
    order_number: str | None = None


class RestockSignup(Loose):
    type: Literal["restock.signup"]
    customer: CustomerIn
    sku: str
    channels: list[Literal["email", "sms"]] = Field(min_length=1)
    consent_wording: str = ""
    source: str = "widget"


class TicketSolved(Loose):
    type: Literal["ticket.solved"]
    ticket_id: int


EventIn = (
    ProductUpserted
    | OrderPlaced
    | OrderDelayed
    | OrderStatus
    | InventoryChanged
    | CartUpdated
    | CheckoutCompleted
    | RestockSignup
    | TicketSolved
)

EVENT_TYPES = (
    "product.upserted",
    "order.placed",
    "order.delayed",
    "order.processing",
    "order.shipped",
    "order.delivered",
    "order.cancelled",
    "inventory.changed",
    "cart.updated",
    "checkout.completed",
    "restock.signup",
    "ticket.solved",
)


class EventEnvelope(BaseModel):
    """What the door accepts: ``{"type": ..., ...fields}``; parsed by ``parse_event``."""

    event: EventIn = Field(discriminator="type")


def parse_event(payload: dict[str, Any]) -> EventIn:
    """Validate one event payload; raises ``pydantic.ValidationError`` naming the field."""
    return EventEnvelope.model_validate({"event": payload}).event


def event_catalog(declared: Iterable[str] = ()) -> tuple[str, ...]:
    """Every event type a journey may name in ``trigger``, ``exit_when`` and ``wait_for``:
    the built-in types above, then those the registered actions and flows declare they emit
    (``@action(..., emits=[...])``), sorted."""
    return tuple(dict.fromkeys([*EVENT_TYPES, *sorted(declared)]))

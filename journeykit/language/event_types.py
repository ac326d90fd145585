"""The domain events Journeykit understands: one pydantic model per type, validated at the
door (CLI ``journeys emit``, ``POST /events``, the simulator). ``subject_keys`` says which
subjects an event is about, so triggers, ``wait_for`` outcomes and ``exit_when`` can match."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from journeykit.timing.clock import aware
from journeykit.timing.waits import zone

# Bounds of the numbers an event may carry: far above any real store, far below what the
# database's 64-bit integers hold (1e30 is refused here, not by an OverflowError later).
MAX_QUANTITY = 1_000_000_000
MAX_CENTS = 10**13
MAX_DAYS = 3660
# A date outside these years is a typo (ship_from 9999, ship_to 0001), not a shipping window.
YEARS = (2000, 2200)


def _no_lone_surrogates(value: Any) -> Any:
    """A string with a lone UTF-16 surrogate (U+D800) cannot be stored or sent as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("contains an invalid character (a lone surrogate)") from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_lone_surrogates(key)
            _no_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _no_lone_surrogates(item)
    return value


def _known_zone(value: str) -> str:
    zone(value)  # ValueError "unknown time zone 'Not/AZone'"
    return value


def _web_url(value: str) -> str:
    """Empty, or an absolute http(s) URL: a ``javascript:`` link never reaches a page."""
    if value == "":
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ValueError("must not contain spaces or control characters")
    return value


def _date_text(value: Any) -> Any:
    """Dates arrive as ISO 8601 text (the schema's ``date-time``), not as numbers."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date-time string, e.g. 2026-03-20T00:00:00Z")
    return value


def _sane_year(value: datetime | None) -> datetime | None:
    if value is not None and not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"the year must be between {YEARS[0]} and {YEARS[1]}")
    return value


Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Short = Annotated[str, StringConstraints(max_length=500)]
Long = Annotated[str, StringConstraints(max_length=5000)]
Zone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]
WebUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_web_url)]
# A window end: a calendar date ("2026-03-02") or an instant, as ISO 8601 text. Date-only and
# naive values are UTC, so a date-only value is stored as midnight UTC of that day, which
# templates read back as that calendar day in the store's zone (templating/filters.py).
WindowEnd = Annotated[datetime, AfterValidator(aware)]
When = Annotated[WindowEnd | None, BeforeValidator(_date_text), AfterValidator(_sane_year)]
Stock = Annotated[StrictInt, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY)]
Cents = Annotated[StrictInt, Field(ge=0, le=MAX_CENTS)]


def _window(start: datetime | None, end: datetime | None, name: str) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"{name}_to is before {name}_from: a window cannot end before it starts")


class Loose(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _utf8_text(cls, value: Any) -> Any:
        return _no_lone_surrogates(value)


class CustomerIn(Loose):
    id: Key = Field(description="the store's customer id")
    email: Short | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    first_name: Short = ""
    timezone: Zone = Field("UTC", description="an IANA time zone, e.g. America/New_York")
    locale: Annotated[str, StringConstraints(max_length=20)] = "en"
    country: Annotated[str, StringConstraints(max_length=64)] | None = None
    consent: dict[Annotated[str, StringConstraints(max_length=20)], StrictBool] = Field(
        default_factory=dict,
        max_length=10,
        description="marketing consent per channel, e.g. {email: true}",
    )
    consent_source: Short = "store"


class LineIn(Loose):
    sku: Key
    quantity: StrictInt = Field(1, ge=1, le=MAX_QUANTITY)
    price_cents: Cents = 0


class OrderIn(Loose):
    number: Key
    lines: list[LineIn] = Field(default_factory=list, max_length=1000)
    ship_from: When = None
    ship_to: When = None
    delivery_from: When = None
    delivery_to: When = None
    total_cents: Cents = 0
    currency: Annotated[str, StringConstraints(min_length=1, max_length=10)] = "USD"
    is_backorder: StrictBool = False

    @model_validator(mode="after")
    def _windows_in_order(self) -> OrderIn:
        _window(self.ship_from, self.ship_to, "ship")
        _window(self.delivery_from, self.delivery_to, "delivery")
        return self


class CartIn(Loose):
    token: Key
    lines: list[LineIn] = Field(default_factory=list, max_length=1000)


class ProductIn(Loose):
    sku: Key
    handle: Key
    title: Name
    variant_title: Short = ""
    category: Annotated[str, StringConstraints(max_length=200)] = "general"
    url: WebUrl = Field("", description="empty or an http(s) URL")
    image_url: WebUrl = Field("", description="empty or an http(s) URL")
    price_cents: Cents = 0
    currency: Annotated[str, StringConstraints(min_length=1, max_length=10)] = "USD"
    inventory: Stock = 0
    backorderable: StrictBool = False
    days_to_use: StrictInt = Field(14, ge=1, le=MAX_DAYS)


class ProductUpserted(Loose):
    type: Literal["product.upserted"]
    product: ProductIn


class OrderPlaced(Loose):
    type: Literal["order.placed"]
    customer: CustomerIn
    order: OrderIn


class OrderDelayed(Loose):
    type: Literal["order.delayed"]
    order_number: Key
    ship_from: When = Field(None, description="new window; both empty = unknown")
    ship_to: When = None
    reason: Long = ""
    fix: Long = Field("", description="what is being done about it")

    @model_validator(mode="after")
    def _window_in_order(self) -> OrderDelayed:
        _window(self.ship_from, self.ship_to, "ship")
        return self


class OrderStatus(Loose):
    """processing / shipped / delivered / cancelled."""

    type: Literal["order.processing", "order.shipped", "order.delivered", "order.cancelled"]
    order_number: Key
    tracking_number: Short | None = None
    carrier: Short | None = None


class InventoryChanged(Loose):
    type: Literal["inventory.changed"]
    sku: Key
    quantity: Stock = Field(description="units available now")


class CartUpdated(Loose):
    type: Literal["cart.updated"]
    customer: CustomerIn
    cart: CartIn


class CheckoutCompleted(Loose):
    type: Literal["checkout.completed"]
    cart_token: Key
    order_number: Key | None = None


class RestockSignup(Loose):
    type: Literal["restock.signup"]
    customer: CustomerIn
    sku: Key
    channels: list[Literal["email", "sms"]] = Field(min_length=1, max_length=2)
    consent_wording: Long = ""
    source: Annotated[str, StringConstraints(max_length=50)] = "widget"


class TicketSolved(Loose):
    type: Literal["ticket.solved"]
    ticket_id: StrictInt = Field(ge=1, le=2**62)


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


class DeclaredEvent(Loose):
    """An event an action or flow declares it emits (``@action(..., emits=[...])``): it names
    its subject (an order, a customer by the store's id, a SKU or a cart) and carries its own
    ``data``; the store is not changed by it, journeys react to it like to any other."""

    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")]
    order_number: Key | None = None
    customer_id: Key | None = None
    sku: Key | None = None
    cart_token: Key | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _names_a_subject(self) -> DeclaredEvent:
        if not (self.order_number or self.customer_id or self.sku or self.cart_token):
            raise ValueError("name its subject: order_number, customer_id, sku or cart_token")
        return self


class EventEnvelope(BaseModel):
    """What the door accepts: ``{"type": ..., ...fields}``; parsed by ``parse_event``."""

    event: EventIn = Field(discriminator="type")


def parse_event(payload: dict[str, Any], declared: Iterable[str] = ()) -> EventIn | DeclaredEvent:
    """Validate one event payload; raises ``pydantic.ValidationError`` naming the field. A
    type in ``declared`` (and not built in) is a :class:`DeclaredEvent`."""
    kind = payload.get("type") if isinstance(payload, dict) else None
    if isinstance(kind, str) and kind not in EVENT_TYPES and kind in set(declared):
        return DeclaredEvent.model_validate(payload)
    return EventEnvelope.model_validate({"event": payload}).event


def event_catalog(declared: Iterable[str] = ()) -> tuple[str, ...]:
    """Every event type a journey may name in ``trigger``, ``exit_when`` and ``wait_for``:
    the built-in types above, then those the registered actions and flows declare they emit
    (``@action(..., emits=[...])``), sorted."""
    return tuple(dict.fromkeys([*EVENT_TYPES, *sorted(declared)]))

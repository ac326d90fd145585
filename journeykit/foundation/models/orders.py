"""Orders with lines and a promised ship window, and carts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field


class Order(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(
        default="placed", description="placed|processing|shipped|delivered|cancelled"
    )
    placed_at: datetime
    ship_from: datetime | None = None
    ship_to: datetime | None = None
    delivery_from: datetime | None = None
    delivery_to: datetime | None = None
    is_backorder: bool = False
    tags: list[str] = json_field(list)
    total_cents: int = 0
    currency: str = "USD"
    tracking_number: str | None = None
    carrier: str | None = None
    expedite_shipping: bool = False
    refund_requested: bool = False
    delivered_at: datetime | None = None
    delay_reason: str | None = None
    delay_fix: str | None = Field(default=None, description="what the store is doing about it")


class OrderLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="order.id", index=True)
    variant_id: int = Field(foreign_key="variant.id", index=True)
    quantity: int = 1
    price_cents: int = 0


class Cart(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(unique=True, index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(default="open", description="open|checked_out")
    updated_at: datetime
    checked_out_at: datetime | None = None
    lines: list[dict[str, Any]] = json_field(list)

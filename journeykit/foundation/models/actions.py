"""What customers did: actions (choices, clicks, replies), store credits, tickets, reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field


class CustomerAction(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="idempotency key: link, MessageSid, event id")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    enrollment_id: int | None = Field(default=None, foreign_key="enrollment.id", index=True)
    name: str = Field(index=True, description="e.g. credit, cancel, expedite, clicked, bought")
    source: str = Field(default="link", description="link | sms | email_event | api")
    at: datetime
    data: dict[str, Any] = json_field()


class StoreCredit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id")
    code: str = Field(unique=True)
    amount_cents: int
    currency: str = "USD"
    issued_at: datetime
    used_at: datetime | None = None


class SupportTicket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id")
    status: str = Field(default="open", description="open | solved | satisfied")
    message: str = ""
    opened_at: datetime
    solved_at: datetime | None = None


class Review(SQLModel, table=True):
    """One review per (customer, order, product): a double submit finds the first one."""

    __table_args__ = (
        Index(
            "uq_review_customer_order_product", "customer_id", "order_id", "product_id", unique=True
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="order.id")
    rating: int = Field(ge=1, le=5)
    name: str = ""
    title: str = ""
    body: str = ""
    photo_path: str | None = None
    photo_status: str | None = Field(
        default=None, index=True, description="pending | approved | rejected; None: no photo"
    )
    created_at: datetime

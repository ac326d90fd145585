"""The outbox: a row per message, unique per enrollment + node + channel + visit, written
before any provider call; and what providers told us about each message afterwards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field

# queued -> sending -> sent -> delivered | bounced | failed; never backwards
# (or queued -> suppressed | expired | withdrawn: never sent).
OUTBOX_STATES = (
    "queued",
    "sending",
    "sent",
    "delivered",
    "bounced",
    "failed",
    "suppressed",
    "expired",
    "withdrawn",
    "simulated",
)


class OutboxMessage(SQLModel, table=True):
    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="enrollment:node:channel:visit")
    enrollment_id: int | None = Field(default=None, foreign_key="enrollment.id", index=True)
    journey: str = Field(index=True)
    node_id: str
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = Field(description="email | sms")
    category: str = Field(default="transactional", description="transactional | marketing")
    template: str
    variant: str | None = None
    to_address: str
    status: str = Field(default="queued")
    due_at: datetime
    expires_at: datetime | None = None
    created_at: datetime
    attempts: int = 0
    last_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    provider_id: str | None = Field(default=None, index=True)
    error_code: str | None = None
    error: str | None = None
    content: dict[str, Any] = json_field()
    decisions: list[dict[str, Any]] = json_field(list)


class MessageEvent(SQLModel, table=True):
    """A provider event (status callback, SendGrid event) or an inbound SMS, once."""

    id: int | None = Field(default=None, primary_key=True)
    provider_event_id: str = Field(unique=True)
    outbox_id: int | None = Field(default=None, foreign_key="outboxmessage.id", index=True)
    kind: str
    at: datetime
    data: dict[str, Any] = json_field()

"""The event inbox: every accepted store event, stored before the door answers 202, in
acceptance order (``id``). Events of one subject apply in that order; one that cannot apply
yet waits (``next_try_at``) and is retried; one that fails for good stays ``failed`` until
``journeys events replay ID`` (see :mod:`journeykit.service.event_inbox`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field


class InboxEvent(SQLModel, table=True):
    __table_args__ = (
        Index("ix_inboxevent_pending", "status", "next_try_at"),
        Index("ix_inboxevent_subject", "subject", "status"),
    )

    id: int | None = Field(default=None, primary_key=True, description="acceptance order")
    key: str = Field(unique=True, description="idempotency key (scope:key)")
    subject: str = Field(description="what it is about: order:5001, sku:TEE-M, cart:abc")
    type: str
    body: dict[str, Any] = json_field()
    source: str = "api"
    status: str = Field(
        default="pending",
        description="pending | waiting (its subject is not known yet) | applying (a large "
        "audience part-way, held for its lease) | applied | failed",
    )
    attempts: int = 0
    next_try_at: datetime
    last_error: str | None = None
    accepted_at: datetime
    applied_at: datetime | None = None
    event_id: int | None = Field(default=None, description="the DomainEvent once applied")

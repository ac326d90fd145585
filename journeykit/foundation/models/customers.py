"""Customers and their consent, recorded per channel and purpose (an append-only ledger)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(unique=True, index=True, description="the store's customer id")
    email: str | None = Field(default=None, index=True)
    phone: str | None = Field(default=None, index=True, description="E.164")
    first_name: str = ""
    timezone: str = "UTC"
    locale: str = "en"
    country: str | None = None
    tags: list[str] = json_field(list)
    created_at: datetime


class Consent(SQLModel, table=True):
    """One consent decision. The latest row per (customer, channel, purpose) is in force;
    opt-outs (STOP, unsubscribe, 21610, spam report) are rows with ``granted=False``."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str = Field(description="email | sms")
    purpose: str = Field(default="marketing", description="marketing | transactional")
    granted: bool
    source: str = Field(description="where it came from: signup widget, sms:STOP, ...")
    wording: str = ""
    recorded_at: datetime
    detail: dict[str, Any] = json_field()

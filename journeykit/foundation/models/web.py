"""What the web layer keeps: short links in SMS/email, and idempotent API receipts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field


class ShortLink(SQLModel, table=True):
    """``{public_base_url}/l/{code}`` redirects to ``url`` and records a click."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, description="short base62 code")
    url: str
    message_key: str | None = Field(default=None, index=True, description="outbox key")
    created_at: datetime
    clicks: int = 0
    last_clicked_at: datetime | None = None


class ApiReceipt(SQLModel, table=True):
    """The answer given to one idempotent request (Idempotency-Key, Shopify webhook id):
    a retry with the same key gets the same answer and records nothing new."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="scope:key")
    request_hash: str = Field(description="sha256 of the request body")
    status_code: int
    response: dict[str, Any] = json_field()
    created_at: datetime

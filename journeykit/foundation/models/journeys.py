"""Journey state: versions, enrollments (where each subject stands and when it is due),
their history, and the domain events that enroll and wake them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from journeykit.foundation.models._base import json_field


class JourneyVersion(SQLModel, table=True):
    """A snapshot of a journey file: enrollments finish on the version they started."""

    hash: str = Field(primary_key=True)
    journey: str = Field(index=True)
    source: str
    created_at: datetime


class Enrollment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_enrollment_due", "status", "wake_at"),
        Index("ix_enrollment_subject", "journey", "subject_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    journey: str = Field(index=True)
    version: str = Field(foreign_key="journeyversion.hash")
    subject_type: str
    subject_key: str
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    active_key: str | None = Field(
        default=None, unique=True, description="journey:subject while active (one at a time)"
    )
    node_id: str
    status: str = Field(default="active", description="active|waiting|completed|exited|failed")
    wake_at: datetime | None = None
    waiting_for: list[str] = json_field(list)
    data: dict[str, Any] = json_field()
    visits: dict[str, int] = json_field()
    lease_owner: str | None = None
    lease_until: datetime | None = None
    entered_at: datetime
    updated_at: datetime
    exit_reason: str | None = None
    error: str | None = None


class EnrollmentHistory(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: int = Field(foreign_key="enrollment.id", index=True)
    at: datetime
    kind: str = Field(description="enter|step|wait|wake|send|action|exit|error")
    from_node: str | None = None
    to_node: str | None = None
    detail: dict[str, Any] = json_field()


class DomainEvent(SQLModel, table=True):
    """Every accepted store event or customer action, once (``key`` dedupes retries)."""

    # The newest event of a subject in one index step (restock.previous_quantity), on
    # PostgreSQL too, whose single-column index does not keep equal keys in id order.
    __table_args__ = (Index("ix_domainevent_subject_id", "subject_key", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, description="idempotency key")
    type: str = Field(index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    subject_key: str | None = Field(default=None, index=True)
    data: dict[str, Any] = json_field()
    source: str = "api"
    occurred_at: datetime
    processed_at: datetime | None = Field(default=None, index=True)

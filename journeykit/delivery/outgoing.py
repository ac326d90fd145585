"""A claimed outbox row as the dispatcher reads it: the columns a send and its record need,
read as plain rows (no ORM object, no identity map, no change tracking per row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import Session

from journeykit.foundation.models import OutboxMessage


class OutboxRow(Protocol):
    """What recording an attempt reads of a row (an :class:`Outgoing` or an ORM row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def key(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def to_address(self) -> str: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def attempts(self) -> int: ...
    @property
    def decisions(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    key: str
    channel: str
    to_address: str
    customer_id: int
    attempts: int
    decisions: list[dict[str, Any]]
    content: dict[str, Any]
    journey: str
    category: str
    expires_at: datetime | None
    last_attempt_at: datetime | None


_COLUMNS = (
    "id", "key", "channel", "to_address", "customer_id", "attempts", "decisions", "content",
    "journey", "category", "expires_at", "last_attempt_at",
)  # fmt: skip


def load_outgoing(session: Session, ids: list[int]) -> list[Outgoing]:
    """The rows ``ids`` (in id order), 900 ids a query."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    columns = [table.c[name] for name in _COLUMNS]
    connection = session.connection()
    found: list[Outgoing] = []
    ordered = sorted(ids)
    for start in range(0, len(ordered), 900):
        part = ordered[start : start + 900]
        query = select(*columns).where(table.c.id.in_(part)).order_by(table.c.id)
        found += [_outgoing(r) for r in connection.execute(query)]
    return found


def _outgoing(r: Any) -> Outgoing:
    return Outgoing(
        id=r.id, key=r.key, channel=r.channel, to_address=r.to_address,
        customer_id=r.customer_id, attempts=r.attempts, decisions=r.decisions or [],
        content=r.content or {}, journey=r.journey, category=r.category,
        expires_at=r.expires_at, last_attempt_at=r.last_attempt_at,
    )  # fmt: skip

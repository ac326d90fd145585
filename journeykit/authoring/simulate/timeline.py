"""The customer's timeline after a simulation: messages (sent, or withdrawn by the send-time
guard, with the reason), actions, exits, in time order."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import pendulum
from sqlmodel import Session, select

from journeykit.foundation.models import (
    Customer,
    CustomerAction,
    Enrollment,
    EnrollmentHistory,
    OutboxMessage,
)


@dataclass(frozen=True)
class Entry:
    at: str  # ISO 8601 with the customer's offset
    kind: str  # send | withdrawn | action | exit
    node: str
    channel: str | None
    template: str | None
    customer: str = ""
    detail: str = ""
    sort_key: tuple[datetime, int, int] = (datetime.min, 0, 0)

    def public(self) -> dict[str, Any]:
        """The documented JSON shape."""
        data = asdict(self)
        return {k: data[k] for k in ("at", "kind", "node", "channel", "template")}


def build_timeline(session: Session) -> list[Entry]:
    customers = {c.id: c for c in session.exec(select(Customer)).all()}
    enrollments = {e.id: e for e in session.exec(select(Enrollment)).all()}
    entries: list[Entry] = []
    for row in session.exec(select(OutboxMessage).where(OutboxMessage.status != "suppressed")):
        customer = customers[row.customer_id]
        subject = row.content.get("subject") or row.content.get("body", "")
        withdrawn = row.status == "withdrawn"  # the send-time guard: no longer true
        entries.append(
            Entry(
                _local(row.due_at, customer),
                "withdrawn" if withdrawn else "send",
                row.node_id,
                row.channel,
                row.template,
                customer.external_id,
                (row.error or "") if withdrawn else subject[:90],
                (row.due_at, 1, row.id or 0),
            )
        )
    for action in session.exec(select(CustomerAction)).all():
        customer = customers[action.customer_id]
        entries.append(
            Entry(
                _local(action.at, customer),
                "action",
                action.name,
                None,
                None,
                customer.external_id,
                action.source,
                (action.at, 0, action.id or 0),
            )
        )
    exits = session.exec(select(EnrollmentHistory).where(EnrollmentHistory.kind == "exit")).all()
    for item in exits:
        customer = customers[enrollments[item.enrollment_id].customer_id]
        entries.append(
            Entry(
                _local(item.at, customer),
                "exit",
                item.from_node or "",
                None,
                None,
                customer.external_id if customer else "",
                str(item.detail.get("reason", "")),
                (item.at, 2, item.id or 0),
            )
        )
    return sorted(entries, key=lambda e: e.sort_key)


def _local(at: datetime, customer: Customer | None) -> str:
    tz = customer.timezone if customer else "UTC"
    return pendulum.instance(at).in_timezone(tz).isoformat()

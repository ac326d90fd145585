"""Writing a group's outbox rows: plain values, one executemany INSERT at the group's end.

An ``OutboxMessage`` built as a SQLModel object costs ~1.5 ms of CPU per row (validation,
instrumented attribute sets, the unit of work's flush); a send node's rows are never read back
in the transaction that writes them, except by the frequency cap of the same customer, so
they are collected as dicts (:func:`defer_outbox`) and written once
(:func:`write_deferred_outbox`). Before the frequency cap counts a customer's messages,
:func:`write_pending_for` writes the group's rows so far if that customer has one among them.
Without deferral (a group run with a savepoint per enrollment), each row is inserted at once,
inside its enrollment's savepoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from journeykit.engine.bind_values import execute_many
from journeykit.foundation.models import OutboxMessage

_DEFERRED = "journeykit.deferred_outbox"
_CUSTOMERS = "journeykit.deferred_outbox_customers"

DEFAULTS: dict[str, Any] = {
    "variant": None,
    "status": "queued",
    "expires_at": None,
    "attempts": 0,
    "last_attempt_at": None,
    "sent_at": None,
    "provider_id": None,
    "error_code": None,
    "error": None,
    "content": {},
    "decisions": [],
}


def defer_outbox(session: Session) -> None:
    """Collect this session's outbox rows until :func:`write_deferred_outbox` (only for
    transactions without savepoints, like ``transitions.defer_history``)."""
    session.info[_DEFERRED] = []
    session.info[_CUSTOMERS] = set()


def queue_outbox_row(session: Session, values: dict[str, Any]) -> None:
    """Add one outbox row (the columns of ``OutboxMessage``; the others take their defaults)."""
    row = DEFAULTS | values
    deferred = session.info.get(_DEFERRED)
    if deferred is None:
        session.connection().execute(insert(OutboxMessage), [row])
        return
    deferred.append(row)
    session.info[_CUSTOMERS].add(row["customer_id"])


def write_pending_for(session: Session, customer_id: int) -> None:
    """Write the deferred rows now if one is ``customer_id``'s (so a query counting the
    customer's messages sees them, as it would have seen flushed ORM rows)."""
    if customer_id in session.info.get(_CUSTOMERS, ()):
        _write(session)


def write_deferred_outbox(session: Session) -> None:
    """Write the rows :func:`defer_outbox` collected (call before the commit)."""
    _write(session)
    session.info.pop(_DEFERRED, None)
    session.info.pop(_CUSTOMERS, None)


def _write(session: Session) -> None:
    rows = session.info.get(_DEFERRED)
    if rows:
        execute_many(session.connection(), insert(OutboxMessage), rows)
        rows.clear()
        session.info[_CUSTOMERS].clear()

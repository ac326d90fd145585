"""The only places an enrollment's state changes: history rows, moves, parks and exits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from journeykit.engine.bind_values import execute_many
from journeykit.foundation.models import Enrollment, EnrollmentHistory

_DEFERRED = "journeykit.deferred_history"


def defer_history(session: Session) -> None:
    """From now on, collect this session's history rows as plain values, to be written in
    one INSERT by :func:`write_deferred_history` (a history row costs ~35 µs as an ORM object
    and is never read back in the transaction that writes it). Only for transactions without
    savepoints: a rolled-back savepoint could not take its deferred rows back."""
    session.info[_DEFERRED] = []


def write_deferred_history(session: Session) -> None:
    """Write the rows :func:`defer_history` collected (call before the commit)."""
    rows = session.info.pop(_DEFERRED, None)
    if rows:
        execute_many(session.connection(), insert(EnrollmentHistory), rows)


def record(
    session: Session,
    enrollment: Enrollment,
    now: datetime,
    kind: str,
    from_node: str | None,
    to_node: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    values: dict[str, Any] = {
        "enrollment_id": enrollment.id,
        "at": now,
        "kind": kind,
        "from_node": from_node,
        "to_node": to_node,
        "detail": detail or {},
    }
    deferred = session.info.get(_DEFERRED)
    if deferred is not None:
        deferred.append(values)
    else:
        session.add(EnrollmentHistory(**values))


def exit_enrollment(
    session: Session, enrollment: Enrollment, now: datetime, *, reason: str, status: str = "exited"
) -> None:
    """Finish an enrollment: ``completed`` at the end of its path, ``exited`` when an
    ``exit_when`` event or an operator ended it early."""
    record(session, enrollment, now, "exit", enrollment.node_id, None, {"reason": reason})
    finished(enrollment, now, status=status)
    enrollment.exit_reason = reason
    session.add(enrollment)


def finished(enrollment: Enrollment, now: datetime, *, status: str) -> None:
    for name, value in finished_values(now, status=status).items():
        setattr(enrollment, name, value)


def finished_values(now: datetime, *, status: str) -> dict[str, Any]:
    """The enrollment's columns once it is finished (``status`` completed, exited, ...)."""
    return {
        "status": status,
        "active_key": None,
        "wake_at": None,
        "waiting_for": [],
        "lease_owner": None,
        "lease_until": None,
        "updated_at": now,
    }

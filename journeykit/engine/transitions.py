"""The only places an enrollment's state changes: history rows, moves, parks and exits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from journeykit.models import Enrollment, EnrollmentHistory


def record(
    session: Session,
    enrollment: Enrollment,
    now: datetime,
    kind: str,
    from_node: str | None,
    to_node: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        EnrollmentHistory(
            enrollment_id=enrollment.id,  # type: ignore[arg-type]
            at=now,
            kind=kind,
            from_node=from_node,
            to_node=to_node,
            detail=detail or {},
        )
    )


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
    enrollment.status = status
    enrollment.active_key = None
    enrollment.wake_at = None
    enrollment.waiting_for = []
    enrollment.lease_owner = None
    enrollment.lease_until = None
    enrollment.updated_at = now

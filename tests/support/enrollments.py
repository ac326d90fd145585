"""Plain enrollment rows for a Core INSERT (many at once, no ORM object each), for tests that
need a table of enrollments: ``n`` customers' enrollments in one journey version."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def enrollment_rows(n: int, now: datetime, **values: Any) -> list[dict[str, Any]]:
    """``n`` active enrollments of journey ``j`` version ``v`` (the caller stores the
    ``JourneyVersion``), subject ``customer:i``, at node ``a``; ``values`` override columns."""
    return [
        {
            "journey": "j",
            "version": "v",
            "subject_type": "customer",
            "subject_key": f"customer:{i}",
            "node_id": "a",
            "status": "active",
            "waiting_for": [],
            "data": {},
            "visits": {},
            "entered_at": now,
            "updated_at": now,
            **values,
        }
        for i in range(n)
    ]

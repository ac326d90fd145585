"""How the claims find their rows (SQLite, which plans without statistics). A claim reads
its candidates by the due index, then writes them by primary key: a status compared in the
same statement as ``id IN (...)`` made SQLite read every queued row by the status index
instead (each claim's cost grew with the queue: 28-41 ms per claim with 100,000 queued
against 9-15 ms by id). The engine's lease on its claimed enrollments likewise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event, insert

from journeykit.delivery.claim import claim
from journeykit.engine.advance import claim_due
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Enrollment, JourneyVersion
from tests.delivery.conftest import Outbox
from tests.support.enrollments import enrollment_rows

ROWS = 400  # a claim batch: with a few ids SQLite reads them by primary key anyway


def _plans(engine: Engine, run: Callable[[], object]) -> dict[str, str]:
    """Each statement ``run`` makes with an ``IN`` list, with SQLite's plan for it."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if " IN (" in statement and not statement.startswith("EXPLAIN"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    plans = {}
    with engine.connect() as c:
        for statement, parameters in seen:
            steps = c.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans[statement] = " / ".join(str(step[-1]) for step in steps)
    return plans


def _by_status(plans: dict[str, str], index: str) -> list[str]:
    """The statements given a list of ids that the status index answers instead."""
    return [
        f"{statement[:90]}...: {plan}"
        for statement, plan in plans.items()
        if index in plan and ".id IN (?" in statement
    ]


def test_the_outbox_claim_writes_its_rows_by_id(outbox: Outbox) -> None:
    cid = outbox.customer(consent=True)
    for _ in range(ROWS):
        outbox.row("sms", customer_id=cid, expires_in=timedelta(days=1))
    outbox.later(minutes=1)
    claimed: list[int] = []
    plans = _plans(outbox.engine, lambda: claimed.extend(claim(outbox.runtime, limit=ROWS).ids))
    assert len(claimed) == ROWS
    assert any(s.startswith("UPDATE outboxmessage SET status") for s in plans), list(plans)
    assert _by_status(plans, "ix_outbox_due") == []


def test_the_engine_leases_its_enrollments_by_id(outbox: Outbox) -> None:
    now = outbox.clock.now()
    rows = enrollment_rows(ROWS, now, wake_at=now)
    with session_scope(outbox.engine) as s:
        s.add(JourneyVersion(hash="v", journey="j", source="", created_at=now))
        s.flush()
        s.connection().execute(insert(Enrollment), rows)
    ids = list(range(1, ROWS + 1))
    claimed: list[int] = []
    plans = _plans(
        outbox.engine, lambda: claimed.extend(claim_due(outbox.runtime, limit=ROWS, ids=ids))
    )
    assert len(claimed) == ROWS
    assert any(s.startswith("UPDATE enrollment SET lease_owner") for s in plans), list(plans)
    assert _by_status(plans, "ix_enrollment_due") == []

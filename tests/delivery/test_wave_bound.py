"""The allotment re-check's cheap first count (`send_guard._surely_fits`): counted once per
process, then only over the rows queued since. Never fewer than the customers told: it says
"fits" only when the exact count would, and follows rows queued and told after it first
counted (else a growing wave could pass its allotment)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, update
from sqlmodel import Session, col

from journeykit.delivery.send_guard import _capped, _surely_fits, _told_among, _told_count
from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Enrollment, JourneyVersion, OutboxMessage
from journeykit.foundation.settings import PROJECT_ROOT
from journeykit.language.journey import Journey
from tests.delivery.conftest import Outbox
from tests.delivery.test_send_guard import _capped_journey, _enrollment

SUBJECT = "sku:SOFA-1"


def _restock() -> Journey:
    source = (PROJECT_ROOT / "journeys" / "restock.yaml").read_text()
    return JourneyBook.from_sources(source).get("restock")


def _queue(box: Outbox, journey: Journey, n: int, status: str = "queued") -> list[int]:
    """``n`` customers of the wave, each with the email and the SMS alert."""
    now = box.clock.now()
    ids = []
    with session_scope(box.engine) as s:
        if s.get(JourneyVersion, "v1") is None:
            s.add(JourneyVersion(hash="v1", journey="restock", source="", created_at=now))
            s.flush()
    for _ in range(n):
        cid = box.customer()
        with session_scope(box.engine) as s:
            e = Enrollment(
                journey="restock", version="v1", subject_type="sku",
                subject_key=f"{SUBJECT}|customer:{cid}", customer_id=cid, node_id="alert_sms",
                entered_at=now, updated_at=now,
            )  # fmt: skip
            s.add(e)
            s.flush()
            for node, channel in (("alert_email", "email"), ("alert_sms", "sms")):
                row = OutboxMessage(
                    key=f"{e.id}:{node}:{channel}:1", journey="restock", node_id=node,
                    enrollment_id=e.id, customer_id=cid, channel=channel, category="marketing",
                    template="t", to_address="x", due_at=now, created_at=now, content={},
                    decisions=[], status=status,
                )  # fmt: skip
                s.add(row)
                s.flush()
                ids.append(int(row.id))  # type: ignore[arg-type]
    return ids


def _tell(box: Outbox, ids: list[int]) -> None:
    with session_scope(box.engine) as s:
        s.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids)).values(status="sent"))


def test_the_bound_never_undercounts_a_growing_wave(tmp_path: Path) -> None:
    box = Outbox(tmp_path)
    journey = _restock()
    since = box.clock.now() - timedelta(hours=1)

    def fits(room: int) -> bool:
        with Session(box.engine) as s:
            answer = _surely_fits(s, journey, SUBJECT, since, room, set(), [])
            if answer:  # never "fits" where the exact count does not
                assert _told_count(s, journey, SUBJECT, since) <= room
            return answer

    _tell(box, _queue(box, journey, 3))
    assert fits(3) and not fits(2)
    _queue(box, journey, 2)  # queued since: may be told by the next claim
    assert not fits(4) and fits(5)
    _tell(box, _queue(box, journey, 2))  # queued and told by another process
    assert not fits(6) and fits(7)
    box.later(hours=1)  # rows queued later in the window count too
    _tell(box, _queue(box, journey, 1))
    assert not fits(7) and fits(8)


def test_the_batch_own_customers_are_counted_once(tmp_path: Path) -> None:
    """The wave's last claim: its new customers' rows are in the count already (a wave as
    large as its allotment fits), while a batch row the count has not seen (queued before
    the window, held since) adds its customer."""
    box = Outbox(tmp_path)
    journey = _restock()
    since = box.clock.now() - timedelta(hours=1)
    with Session(box.engine) as s:
        old = s.get(OutboxMessage, _queue(box, journey, 1)[0])
        assert old is not None
        old_row = (old.customer_id, old.created_at - timedelta(hours=2), int(old.id))  # type: ignore[arg-type]
    box.later(minutes=1)
    ids = _queue(box, journey, 3)
    with Session(box.engine) as s:
        rows = [s.get(OutboxMessage, i) for i in ids]
        batch = [(r.customer_id, r.created_at, int(r.id)) for r in rows if r is not None]  # type: ignore[arg-type]
        new = {c for c, *_ in batch}
        assert _told_count(s, journey, SUBJECT, since) == 0
        # 4 customers queued in the window (one of them twice as held), 3 of them claimed
        assert _surely_fits(s, journey, SUBJECT, since, 4, new, batch)
        assert not _surely_fits(s, journey, SUBJECT, since, 3, new, batch)
        held = new | {old_row[0]}
        # the held row is outside what the count read: its customer is added
        assert not _surely_fits(s, journey, SUBJECT, since, 4, held, [*batch, old_row])
        assert _surely_fits(s, journey, SUBJECT, since, 5, held, [*batch, old_row])


def _plans(box: Outbox, run: Callable[[Session], object]) -> list[str]:
    """SQLite's query plan of each SELECT that ``run`` makes on the outbox."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("SELECT") and "outboxmessage" in statement:
            seen.append((statement, parameters))

    event.listen(box.engine, "before_cursor_execute", keep)
    try:
        with Session(box.engine) as s:
            run(s)
    finally:
        event.remove(box.engine, "before_cursor_execute", keep)
    with box.engine.connect() as c:
        return [
            " / ".join(str(step[-1]) for step in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {q}", p))
            for q, p in seen
        ]


def test_the_batch_customers_are_read_by_their_index_not_by_status(tmp_path: Path) -> None:
    """Which of a batch's customers were told, and what each took within the frequency
    cap's window: read by the batch's customer ids. A status or journey compared in SQL
    made SQLite read every row sent so far by ``ix_outbox_due`` (126 ms per claim batch
    after 150,000 sent): a claim's cost grew with the audience."""
    box = Outbox(tmp_path)
    journey = _restock()
    _tell(box, _queue(box, journey, 3))
    batch = range(1, 501)  # a claim batch: with 3 ids SQLite picks the customer index anyway
    now = box.clock.now()
    told = _plans(
        box, lambda s: _told_among(s, journey, SUBJECT, now - timedelta(hours=1), set(batch))
    )
    rows = [
        OutboxMessage(
            id=i,
            key=f"{i}:alert_sms:sms:1",
            journey="restock",
            node_id="alert_sms",
            enrollment_id=i,
            customer_id=i,
            channel="sms",
            category="marketing",
            template="t",
            to_address="x",
            due_at=now,
            created_at=now,
        )
        for i in batch
    ]
    enrollments = {i: _enrollment("active") for i in batch}  # of journey version "v"
    capped = {"v": _capped_journey("defer")}
    taken = _plans(box, lambda s: _capped(s, rows, enrollments, capped, {}, now))
    assert len(told) == 1 and len(taken) == 1, (told, taken)
    for plan in told + taken:
        assert "ix_outboxmessage_customer_id" in plan and "ix_outbox_due" not in plan, plan

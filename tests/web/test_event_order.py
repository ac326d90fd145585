"""POST /events in adversarial order over HTTP (the real app): order.delayed posted while
order.placed is still being applied, many orders at once, the same subject back to back.
Every event is applied exactly once, each order's events in order, and each delay gets its
apology enrollment; nothing is lost."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from journeykit.foundation.models import DomainEvent, Enrollment, InboxEvent
from journeykit.service.event_inbox import apply_pending
from tests.web.conftest import API_KEY, Web, delayed, order_placed, product

AUTH = {"X-Api-Key": API_KEY}


def test_placed_and_delayed_back_to_back_for_many_orders(web: Web) -> None:
    client = web.client()
    assert client.post("/events", json=product(), headers=AUTH).status_code == 202
    numbers = [str(3000 + n) for n in range(8)]

    def post(payload: dict[str, Any], key: str) -> int:
        headers = {**AUTH, "Idempotency-Key": key}
        return int(client.post("/events", json=payload, headers=headers).status_code)

    jobs = [(order_placed(n, customer=f"C-{n}"), f"{n}:placed") for n in numbers]
    jobs += [(delayed(n), f"{n}:delayed") for n in numbers]
    with ThreadPoolExecutor(max_workers=6) as pool:  # delays race their orders
        codes = list(pool.map(lambda job: post(*job), jobs))
    assert codes == [202] * len(jobs)
    # What lost a race for SQLite's one writer, or came before its order, waits in the inbox
    # with a backoff; the sweep (the safety net) applies it when it is due: play that here.
    for _ in range(10):
        with web.session() as session:
            left = session.exec(select(InboxEvent).where(InboxEvent.status != "applied")).all()
        if not left:
            break
        web.clock.advance(timedelta(hours=1))
        apply_pending(web.runtime)
    with web.session() as session:
        inbox = session.exec(select(InboxEvent)).all()
        events = session.exec(select(DomainEvent).order_by(col(DomainEvent.id))).all()
        apologies = session.exec(
            select(Enrollment).where(Enrollment.journey == "delay_apology")
        ).all()
    assert {row.status for row in inbox} == {"applied"}, [(r.key, r.status) for r in inbox]
    assert len(events) == 1 + 2 * len(numbers)
    seen: dict[str, list[str]] = {}
    for event in events[1:]:
        seen.setdefault(str(event.subject_key), []).append(event.type)
    assert all(types == ["order.placed", "order.delayed"] for types in seen.values()), seen
    assert len(apologies) == len(numbers)

"""Run a scenario through the real engine on a temporary SQLite database and a virtual
clock that jumps from one due time to the next. Nothing is sent: outbox rows are the
messages the customer would get, at their due time."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pendulum
from sqlmodel import Session, SQLModel, col, func, select

from journeykit.db import make_engine, session_scope
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.clock import VirtualClock
from journeykit.engine.ingest import ingest_event, record_action
from journeykit.engine.runtime import Runtime
from journeykit.models import Customer, Enrollment, SupportTicket
from journeykit.settings import Settings
from journeykit.simulate.catalog import catalog_events
from journeykit.simulate.fill import fill_event
from journeykit.simulate.scenario import Scenario
from journeykit.simulate.timeline import Entry, build_timeline

MAX_TICKS = 20_000


@dataclass
class SimulationResult:
    timeline: list[Entry]
    errors: list[str]
    enrollments: list[dict[str, Any]]


def simulate(
    scenario: Scenario, book: JourneyBook, *, settings: Settings, workdir: Path | None = None
) -> SimulationResult:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        engine = make_engine(f"sqlite:///{tmp}/simulation.db")
        SQLModel.metadata.create_all(engine)
        start = scenario.start or pendulum.datetime(2026, 1, 5, 9, tz="UTC")
        clock = VirtualClock(start)
        runtime = Runtime(engine=engine, clock=clock, book=book, settings=settings, owner="sim")
        try:
            return _run(scenario, runtime, clock, start)
        finally:
            engine.dispose()


def _run(
    scenario: Scenario, runtime: Runtime, clock: VirtualClock, start: datetime
) -> SimulationResult:
    errors: list[str] = []
    with session_scope(runtime.engine) as session:
        for index, payload in enumerate(catalog_events(scenario)):
            ingest_event(
                session, book=runtime.book, now=start, payload=payload, key=f"catalog:{index}"
            )
    steps = sorted(enumerate(scenario.events), key=lambda item: (item[1].at, item[0]))
    end = start + scenario.until
    position = 0
    for _ in range(MAX_TICKS):
        next_step = start + steps[position][1].at if position < len(steps) else None
        candidates = [t for t in (next_step, _next_due(runtime)) if t is not None]
        if not candidates or min(candidates) > end:
            break
        clock.set(max(min(candidates), clock.now()))
        while position < len(steps) and start + steps[position][1].at <= clock.now():
            index, step = steps[position]
            position += 1
            with session_scope(runtime.engine) as session:
                if step.event:
                    payload = fill_event(session, scenario, step, clock.now())
                    ingest_event(
                        session,
                        book=runtime.book,
                        now=clock.now(),
                        payload=payload,
                        key=f"scenario:{index}",
                        source="simulator",
                    )
                else:
                    customer = _customer(session, scenario.customer_by_id(step.customer).id)
                    record_action(
                        session,
                        now=clock.now(),
                        customer_id=customer.id,  # type: ignore[arg-type]
                        name=step.action or "",
                        key=f"scenario:{index}",
                        source="simulator",
                        data=step.data,
                    )
        while ids := claim_due(runtime, limit=10_000):
            errors += advance(runtime, ids).errors
    with Session(runtime.engine) as session:
        rows = session.exec(select(Enrollment)).all()
        summary = [
            {
                "id": e.id,
                "journey": e.journey,
                "subject": e.subject_key,
                "node": e.node_id,
                "status": e.status,
                "error": e.error,
            }
            for e in rows
        ]
        return SimulationResult(build_timeline(session), errors, summary)


def _next_due(runtime: Runtime) -> datetime | None:
    with Session(runtime.engine) as session:
        return session.exec(
            select(func.min(Enrollment.wake_at)).where(
                col(Enrollment.status).in_(("active", "waiting"))
            )
        ).one()


def _customer(session: Session, external_id: str) -> Customer:
    customer = session.exec(select(Customer).where(Customer.external_id == external_id)).first()
    if customer is None:
        raise ValueError(f"customer {external_id!r} has not appeared in any event yet")
    return customer


def latest_ticket(session: Session, customer_id: int) -> int | None:
    return session.exec(
        select(SupportTicket.id)
        .where(SupportTicket.customer_id == customer_id)
        .order_by(col(SupportTicket.id).desc())
    ).first()

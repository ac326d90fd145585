"""Play scenarios on a virtual clock: jump to the next thing that is due (a scripted event
or action, an enrollment's wake time, a queued message), apply it, run a tick. The
simulator's tick advances enrollments in-process; the demo's runs the Prefect sweep."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, func, select

from journeykit.authoring.simulate.catalog import catalog_events
from journeykit.authoring.simulate.fill import fill_event
from journeykit.authoring.simulate.scenario import Scenario, ScenarioStep
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Customer, Enrollment, OutboxMessage
from journeykit.service.events import accept_and_apply, record_action
from journeykit.timing.clock import VirtualClock

MAX_TICKS = 20_000
Tick = Callable[[Runtime], list[str]]


@dataclass(frozen=True)
class Scheduled:
    at: datetime
    order: int
    scenario: Scenario
    step: ScenarioStep
    key: str


def schedule(scenarios: list[tuple[str, Scenario]], start: datetime) -> list[Scheduled]:
    """Every step of every scenario on one timeline (each from its own ``start``, if set)."""
    items = [
        Scheduled((scenario.start or start) + step.at, index, scenario, step, f"{name}:{index}")
        for name, scenario in scenarios
        for index, step in enumerate(scenario.events)
    ]
    return sorted(items, key=lambda s: (s.at, s.order))


def span(scenarios: list[Scenario], default: datetime) -> tuple[datetime, datetime]:
    """The first start and the last ``start + until`` of the scenarios."""
    starts = [s.start or default for s in scenarios]
    return min(starts), max(begin + s.until for begin, s in zip(starts, scenarios, strict=True))


def seed_catalog(runtime: Runtime, scenarios: list[Scenario], now: datetime) -> None:
    with session_scope(runtime.engine) as session:
        seen: set[str] = set()
        for scenario in scenarios:
            for payload in catalog_events(scenario):
                sku = payload["product"]["sku"]
                if sku not in seen:
                    seen.add(sku)
                    accept_and_apply(
                        session,
                        runtime,
                        payload=payload,
                        key=f"catalog:{sku}",
                        source="simulator",
                        now=now,
                    )


def play(
    runtime: Runtime,
    clock: VirtualClock,
    steps: list[Scheduled],
    end: datetime,
    tick: Tick,
    *,
    include_outbox: bool = False,
    on_step: Callable[[Scheduled], None] | None = None,
) -> list[str]:
    """Run until nothing is due before ``end``; returns the errors ticks reported."""
    errors: list[str] = []
    position = 0
    for _ in range(MAX_TICKS):
        candidates = [next_due(runtime, include_outbox)]
        if position < len(steps):
            candidates.append(steps[position].at)
        due = [t for t in candidates if t is not None]
        if not due or min(due) > end:
            break
        clock.set(max(min(due), clock.now()))
        while position < len(steps) and steps[position].at <= clock.now():
            apply_step(runtime, steps[position])
            if on_step:
                on_step(steps[position])
            position += 1
        errors += tick(runtime)
    return errors


def apply_step(runtime: Runtime, item: Scheduled) -> None:
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        if item.step.event:
            payload = fill_event(session, item.scenario, item.step, now)
            accept_and_apply(
                session, runtime, payload=payload, key=item.key, source="simulator", now=now
            )
        else:
            external = item.scenario.customer_by_id(item.step.customer).id
            customer = session.exec(
                select(Customer).where(Customer.external_id == external)
            ).first()
            if customer is None:
                raise ValueError(f"customer {external!r} acts before any event introduced them")
            record_action(
                session,
                now=now,
                customer_id=customer.id,  # type: ignore[arg-type]
                name=item.step.action or "",
                key=item.key,
                source="simulator",
                data=item.step.data,
            )


def next_due(runtime: Runtime, include_outbox: bool) -> datetime | None:
    with Session(runtime.engine) as session:
        times = [
            session.exec(
                select(func.min(Enrollment.wake_at)).where(
                    col(Enrollment.status).in_(("active", "waiting"))
                )
            ).one()
        ]
        if include_outbox:
            times.append(
                session.exec(
                    select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == "queued")
                ).one()
            )
    present = [t for t in times if t is not None]
    return min(present) if present else None

"""``simulate``: one scenario through the real engine on a temporary SQLite database and a
virtual clock. Nothing is sent: due outbox rows are claimed as production claims them (the
send-time guard withdraws what is no longer true) and recorded ``simulated``; the timeline
shows what the customer would get, when, and what was withdrawn."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
from sqlmodel import Session, SQLModel, select

from journeykit.authoring.simulate.play import play, schedule, seed_catalog
from journeykit.authoring.simulate.scenario import Scenario
from journeykit.authoring.simulate.timeline import Entry, build_timeline
from journeykit.delivery.simulated_send import send_simulated
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import Enrollment
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock

DEFAULT_START = pendulum.datetime(2026, 1, 5, 9, tz="UTC")


@dataclass
class SimulationResult:
    timeline: list[Entry]
    errors: list[str]
    enrollments: list[dict[str, Any]]


def advance_due(runtime: Runtime) -> list[str]:
    """The simulator's tick: advance everything due, in-process, then send what is due
    through the production claim (held rows re-checked by the send-time guard)."""
    errors: list[str] = []
    while ids := claim_due(runtime, limit=10_000):
        errors += advance(runtime, ids).errors
    send_simulated(runtime)
    return errors


def simulate(
    scenario: Scenario, book: JourneyBook, *, settings: Settings, workdir: Path | None = None
) -> SimulationResult:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        engine = make_engine(f"sqlite:///{tmp}/simulation.db")
        SQLModel.metadata.create_all(engine)
        start = scenario.start or DEFAULT_START
        clock = VirtualClock(start)
        runtime = build_runtime(settings, engine=engine, clock=clock, book=book, owner="sim")
        try:
            seed_catalog(runtime, [scenario], start)
            errors = play(
                runtime,
                clock,
                schedule([("scenario", scenario)], start),
                start + scenario.until,
                advance_due,
                include_outbox=True,
            )
            with Session(engine) as session:
                summary = [
                    {
                        "id": e.id,
                        "journey": e.journey,
                        "subject": e.subject_key,
                        "node": e.node_id,
                        "status": e.status,
                        "error": e.error,
                    }
                    for e in session.exec(select(Enrollment)).all()
                ]
                return SimulationResult(build_timeline(session), errors, summary)
        finally:
            engine.dispose()

"""Play the demo scenarios together on one database through the real Prefect sweep flow,
sending through the real SDKs (to the sandbox, or to the configured provider URLs)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from journeykit.authoring.simulate.play import Scheduled, play, schedule, seed_catalog, span
from journeykit.authoring.simulate.runner import DEFAULT_START
from journeykit.authoring.simulate.scenario import Scenario, load_scenario
from journeykit.demo.webhooks import WebhookServer
from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import Customer, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.orchestration.flows import sweep
from journeykit.orchestration.run_outcome import outcome_counts, run_in_process
from journeykit.reports.page import write_page
from journeykit.reports.report_pages import overview_page
from journeykit.sandbox.server import SandboxServer
from journeykit.service.runtime_factory import build_runtime, use_runtime
from journeykit.timing.clock import VirtualClock

SCENARIOS = Path(__file__).parent / "scenarios"


@dataclass
class DemoResult:
    messages: list[dict[str, Any]]
    flow_runs: int
    errors: list[str]
    database: str
    report: Path | None = None  # the report page (HTML) written at the end


def demo_scenarios(directory: Path = SCENARIOS) -> list[tuple[str, Scenario]]:
    return [(path.stem, load_scenario(path)) for path in sorted(directory.glob("*.yaml"))]


def run_demo(
    settings: Settings,
    book: JourneyBook,
    workdir: Path,
    *,
    on_step: Callable[[Scheduled], None] | None = None,
    box: SandboxServer | None = None,
) -> DemoResult:
    """Play the demo scenarios; with ``box`` (the sandbox), the real web app also runs so the
    sandbox's status callbacks and SendGrid events reach the outbox, as in production."""
    url = _prepare(workdir)
    with contextlib.ExitStack() as stack:
        if box is not None:
            web = stack.enter_context(_webhooks(url, box))
            settings = settings.with_changes({"web.public_base_url": web.url})
        result = _run(settings, book, url, on_step)
    engine = make_engine(url)  # read again: delivery callbacks arrived after the last sweep
    try:
        result.messages = _messages(engine)
        result.report = write_report(engine, book, settings, workdir / "report.html")
    finally:
        engine.dispose()
    return result


def write_report(engine: Engine, book: JourneyBook, settings: Settings, path: Path) -> Path:
    """The report page of everything the demo did (what each journey earned, rates, A/B
    verdicts, funnels, demand, backorder buyers), dated at the demo clock's end."""
    scenarios = [s for _, s in demo_scenarios()]
    _, end = span(scenarios, DEFAULT_START)
    with Session(engine) as session:
        page = overview_page(session, book, settings=settings, now=end)
    return write_page(page, path)


@contextlib.contextmanager
def _webhooks(url: str, box: SandboxServer) -> Iterator[WebhookServer]:
    engine = make_engine(url)
    try:
        with WebhookServer(engine, url, box.sendgrid_public_key) as web:
            box.set_sendgrid_event_url(web.sendgrid_events_url)
            yield web
            _drain(engine)
    finally:
        box.set_sendgrid_event_url(None)
        engine.dispose()


def _prepare(workdir: Path) -> str:
    """A fresh, migrated demo database in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = workdir / "journeykit.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    upgrade(url)
    return url


def _drain(engine: Engine, quiet_s: float = 1.0, limit_s: float = 15.0) -> None:
    """Wait until the sandbox's callbacks stop changing the outbox (they trail the sends)."""
    deadline, last, calm_since = time.monotonic() + limit_s, None, time.monotonic()
    while time.monotonic() < deadline:
        with Session(engine) as session:
            now = tuple(session.exec(select(OutboxMessage.status)).all())
        if now != last:
            last, calm_since = now, time.monotonic()
        elif time.monotonic() - calm_since >= quiet_s:
            return
        time.sleep(0.2)


def _run(
    settings: Settings,
    book: JourneyBook,
    url: str,
    on_step: Callable[[Scheduled], None] | None,
) -> DemoResult:
    scenarios = demo_scenarios()
    start, end = span([s for _, s in scenarios], DEFAULT_START)
    clock = VirtualClock(start)
    runtime = build_runtime(
        settings.with_changes({"database.url": url}),
        engine=make_engine(url),
        clock=clock,
        book=book,
        owner="demo",
    )
    use_runtime(lambda: runtime)
    runs = 0

    def tick(rt: Runtime) -> list[str]:
        nonlocal runs

        runs += 1
        result = outcome_counts(run_in_process(sweep(limit=1000, return_state=True)))
        return (
            [f"sweep at {rt.clock.now():%Y-%m-%d %H:%M}: {result['errors']} errors"]
            if result["errors"]
            else []
        )

    try:
        seed_catalog(runtime, [s for _, s in scenarios], start)
        errors = play(
            runtime,
            clock,
            schedule(scenarios, start),
            end,
            tick,
            include_outbox=True,
            on_step=on_step,
        )
        return DemoResult(_messages(runtime.engine), runs, errors, url.removeprefix("sqlite:///"))
    finally:
        use_runtime(None)
        runtime.engine.dispose()


def _messages(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as session:
        customers = {c.id: c for c in session.exec(select(Customer)).all()}
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.due_at))).all()
        out = []
        for row in rows:
            customer = customers[row.customer_id]
            local = pendulum.instance(row.sent_at or row.due_at).in_timezone(customer.timezone)
            out.append(
                {
                    "customer": f"{customer.first_name or customer.external_id} "
                    f"({customer.locale}, {customer.timezone})",
                    "when": local.format("ddd MMM D HH:mm zz"),
                    "journey": row.journey,
                    "channel": row.channel,
                    "what": (row.content.get("subject") or row.content.get("body") or "")[:70],
                    "status": row.status
                    if row.status != "suppressed"
                    else f"suppressed: {row.error}",
                    "provider_id": row.provider_id or "",
                }
            )
        return out

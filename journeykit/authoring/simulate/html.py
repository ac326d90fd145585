"""``journeys simulate --html FILE``: the customer's timeline as one readable page, each
message rendered inline (an email's HTML in a sandboxed ``iframe srcdoc``, its subject and
text part; an SMS as its text with segments and encoding). Runs the same simulation as
``simulate.runner`` and keeps what each outbox row would have sent."""

from __future__ import annotations

import html
import tempfile
from typing import Any

from sqlmodel import Session, SQLModel, select

from journeykit.authoring.simulate.play import play, schedule, seed_catalog
from journeykit.authoring.simulate.runner import DEFAULT_START, SimulationResult, advance_due
from journeykit.authoring.simulate.scenario import Scenario
from journeykit.authoring.simulate.timeline import Entry, build_timeline
from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock

Contents = dict[int, dict[str, Any]]
STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222}
.entry{border-left:4px solid #ccc;padding:.4rem 1rem;margin:1rem 0}
.send{border-color:#1565c0}.action{border-color:#00897b}.exit{border-color:#6a1b9a}
.when{color:#666;font-size:.9rem}.kind{font-weight:bold;text-transform:uppercase;font-size:.8rem}
iframe{width:100%;height:28rem;border:1px solid #ddd;background:#fff}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.6rem;border-radius:6px}
.sms{max-width:24rem;background:#e8f5e9}.errors{color:#b71c1c}"""


def simulate_with_messages(
    scenario: Scenario, book: JourneyBook, *, settings: Settings
) -> tuple[SimulationResult, Contents]:
    """The simulation result, plus each outbox row's content by its id."""
    with tempfile.TemporaryDirectory(prefix="jk-sim-html-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/simulation.db")
        try:
            SQLModel.metadata.create_all(engine)
            start = scenario.start or DEFAULT_START
            clock = VirtualClock(start)
            runtime = build_runtime(settings, engine=engine, clock=clock, book=book, owner="sim")
            seed_catalog(runtime, [scenario], start)
            steps = schedule([("scenario", scenario)], start)
            errors = play(
                runtime, clock, steps, start + scenario.until, advance_due, include_outbox=True
            )
            with Session(engine) as session:
                contents = {
                    int(row.id or 0): {**row.content, "status": row.status, "to": row.to_address}
                    for row in session.exec(select(OutboxMessage)).all()
                }
                return SimulationResult(build_timeline(session), errors, []), contents
        finally:
            engine.dispose()


def _message(entry: Entry, contents: Contents) -> str:
    content = contents.get(entry.sort_key[2], {})
    if entry.channel == "email" and content.get("html"):
        subject = html.escape(str(content.get("subject", "")))
        return (
            f"<p><b>Subject:</b> {subject}<br><small>to {html.escape(content['to'])}</small></p>"
            f'<iframe sandbox="" title="{subject}" srcdoc="{html.escape(content["html"])}">'
            "</iframe><details><summary>text part</summary>"
            f"<pre>{html.escape(str(content.get('text', '')))}</pre></details>"
        )
    if entry.channel == "sms" and "body" in content:
        return (
            f"<pre class='sms'>{html.escape(str(content['body']))}</pre>"
            f"<small>{content.get('segments')} segment(s), {content.get('encoding')}, "
            f"to {html.escape(content['to'])}</small>"
        )
    return f"<p>{html.escape(entry.detail)}</p>"


def timeline_html(title: str, result: SimulationResult, contents: Contents) -> str:
    """A self-contained HTML page (no scripts, no remote assets)."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(result.timeline)} entries; times are the customer's local time.</p>",
    ]
    if result.errors:
        items = "".join(f"<li>{html.escape(e)}</li>" for e in result.errors)
        parts.append(f"<ul class='errors'>{items}</ul>")
    for entry in result.timeline:
        when = entry.at[:16].replace("T", " ") + " " + entry.at[19:]
        what = {
            "send": f"{entry.channel} · {entry.template}",
            "action": f"customer chose <b>{html.escape(entry.node)}</b>",
            "exit": f"left the journey at {html.escape(entry.node)}",
        }.get(entry.kind, "")
        body = _message(entry, contents) if entry.kind == "send" else ""
        if entry.kind != "send" and entry.detail:
            body = f"<small>{html.escape(entry.detail)}</small>"
        parts.append(
            f"<div class='entry {entry.kind}'><div class='when'>{html.escape(when)} · "
            f"{html.escape(entry.customer)}</div><div><span class='kind'>{entry.kind}</span> "
            f"<code>{html.escape(entry.node)}</code> {what}</div>{body}</div>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

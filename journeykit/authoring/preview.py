"""Render every message of a journey with sample (or given) data, through the same context,
links and composition the engine uses when it queues a message: what you see is what a
customer gets. Emails are written as one HTML file (+ its text part) per message."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pendulum
from sqlmodel import Session, SQLModel

from journeykit.authoring.graph import calls_before
from journeykit.authoring.sample import PreviewInput, sample_enrollment
from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import Registry
from journeykit.engine.template_context import build_context
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import Customer
from journeykit.foundation.settings import Settings
from journeykit.language.journey import Journey
from journeykit.language.nodes import SendNode
from journeykit.messaging.compose import action_extras, compose
from journeykit.service.registry_loader import project_registry
from journeykit.templating.errors import TemplateRenderError
from journeykit.templating.limits import TemplateLimits
from journeykit.templating.render import TemplateRenderer

PREVIEW_NOW = pendulum.datetime(2026, 3, 2, 14, tz="UTC")
# Links in a preview go nowhere: a host under the reserved .invalid domain, signed with a
# secret made up for this preview, so no server (production least of all) accepts them for
# any customer. The customer is the sample's (a fictitious one from a throwaway database).
PREVIEW_BASE_URL = "https://x.invalid"
# Preview links are signed with this public string, never a server's secret: a preview renders
# the same every time, and its links (on a host that does not exist) open nothing.
PREVIEW_SECRET = "journeykit-preview-links-open-nothing"


def preview_settings(settings: Settings) -> Settings:
    """``settings`` with the link host and signing secret of a preview (never the real ones)."""
    return settings.with_changes(
        {
            "web.public_base_url": PREVIEW_BASE_URL,
            "web.signing_secret": PREVIEW_SECRET,
        }
    )


@dataclass
class PreviewedMessage:
    node: str
    channel: str
    template: str
    locale: str
    content: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    html_path: Path | None = None
    text_path: Path | None = None

    @property
    def segments(self) -> int:
        return int(self.content.get("segments", 0))

    @property
    def encoding(self) -> str:
        return str(self.content.get("encoding", ""))


def send_nodes(journey: Journey, only: str | None = None) -> list[SendNode]:
    """The journey's send nodes (or the one named ``only``; KeyError if it is not one)."""
    nodes = [n for n in journey.nodes if isinstance(n, SendNode)]
    if only is None:
        return nodes
    picked = [n for n in nodes if n.id == only]
    if not picked:
        raise KeyError(only)
    return picked


def render_messages(
    journey: Journey,
    settings: Settings,
    given: PreviewInput,
    *,
    only: str | None = None,
    locale: str | None = None,
    now: datetime = PREVIEW_NOW,
    renderer: TemplateRenderer | None = None,
    registry: Registry | None = None,
) -> list[PreviewedMessage]:
    """Each send node's message; a template that fails to render is reported on its message.
    ``renderer``: the settings' templates with their limits unless given; ``registry``: the
    project's (``[tool.journeykit]``) unless given."""
    registry = registry if registry is not None else project_registry()
    settings = preview_settings(settings)
    renderer = renderer or TemplateRenderer(
        settings.templates.dir, limits=TemplateLimits.from_settings(settings)
    )
    reader_locale = locale or given.customer.locale
    with tempfile.TemporaryDirectory(prefix="jk-preview-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/preview.db")
        try:
            SQLModel.metadata.create_all(engine)
            with Session(engine) as session:
                enrollment = sample_enrollment(session, journey, given, now)
                session.flush()
                sample = dict(enrollment.data)
                messages = []
                for node in send_nodes(journey, only):
                    savepoint = session.begin_nested()  # each message on its own path
                    try:
                        messages.append(
                            _preview(
                                session,
                                renderer,
                                registry,
                                settings,
                                journey,
                                node,
                                enrollment,
                                reader_locale,
                                now,
                            )
                        )
                    finally:
                        savepoint.rollback()
                        session.expire_all()
                        enrollment.data = dict(sample)
                return messages
        finally:
            engine.dispose()


def _preview(
    session: Session,
    renderer: TemplateRenderer,
    registry: Registry,
    settings: Settings,
    journey: Journey,
    node: SendNode,
    enrollment: Any,
    locale: str,
    now: datetime,
) -> PreviewedMessage:
    """Run the actions on the way to ``node``, build the engine's context, render."""
    problem = run_calls_before(session, registry, journey, node.id, enrollment, now)
    context = build_context(
        session, settings=settings, journey=journey, enrollment=enrollment, now=now
    )
    message = _render(renderer, settings, journey, node, enrollment, context, locale, now)
    message.error = message.error or problem
    return message


def run_calls_before(
    session: Session,
    registry: Registry,
    journey: Journey,
    node_id: str,
    enrollment: Any,
    now: datetime,
) -> str | None:
    """Run the actions on the way to ``node_id`` on the sample data, as the engine would;
    what they return goes into the enrollment's data. Returns a problem, or None."""
    customer = session.get(Customer, enrollment.customer_id)
    data = dict(enrollment.data)
    for call in calls_before(journey, node_id):
        try:
            action = registry.get_action(call.action)
            context = ActionContext(session, journey, enrollment, customer, now, journey.settings)
            data.update(action(context, **call.params) or {})
            session.flush()
        except Exception as exc:  # the sample data may not suit an action: say so, go on
            return f"action {call.action!r} (node {call.id}) failed on the sample data: {exc}"
    enrollment.data = data
    return None


def _render(
    renderer: TemplateRenderer,
    settings: Settings,
    journey: Journey,
    node: SendNode,
    enrollment: Any,
    context: dict[str, Any],
    locale: str,
    now: datetime,
) -> PreviewedMessage:
    category = node.category or journey.category
    extras = action_extras(
        settings,
        node,
        enrollment_id=enrollment.id,
        customer_id=enrollment.customer_id,
        now=now,
        category=category,
    )
    message = PreviewedMessage(node.id, node.channel, node.template, locale)
    try:
        message.content = compose(
            renderer, node, locale, {**context, **extras}, category, extras["unsubscribe_url"]
        )
    except TemplateRenderError as exc:
        message.error = str(exc)
    return message


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def write_emails(messages: list[PreviewedMessage], out_dir: Path) -> None:
    """One ``<node>.<locale>.html`` (with the subject as its title) and ``.txt`` per email."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for message in messages:
        if message.channel != "email" or message.error:
            continue
        stem = _slug(f"{message.node}.{message.content.get('locale', message.locale)}")
        message.html_path = out_dir / f"{stem}.html"
        message.text_path = out_dir / f"{stem}.txt"
        message.html_path.write_text(str(message.content["html"]), encoding="utf-8")
        subject = message.content.get("subject", "")
        text = f"Subject: {subject}\n\n{message.content.get('text', '')}\n"
        message.text_path.write_text(text, encoding="utf-8")

"""Publish a customer's or an order's story (reports/story.py) as a keyed Prefect markdown
artifact, ``story-customer-<id>`` / ``story-order-<number>``: by ``journeys customer|order
--artifact``, and by each event run for the order (or else the customer) it was about, so the
Artifacts page always has the latest story of a subject ops search for."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from prefect.artifacts import acreate_markdown_artifact, create_markdown_artifact
from sqlalchemy import Engine
from sqlmodel import Session

from journeykit.orchestration.rename import subject_parts
from journeykit.reports.markdown import escape
from journeykit.reports.story import Story, StoryNotFound, customer_story, order_story
from journeykit.reports.story_markdown import story_markdown

log = logging.getLogger(__name__)


def publish_story(key: str, markdown: str, *, description: str) -> None:
    """Outside a flow run (the CLI): create the artifact on the configured Prefect API."""
    asyncio.run(acreate_markdown_artifact(markdown=markdown, key=key, description=description))


def event_story(session: Session, event: Mapping[str, Any]) -> Story | None:
    """The story of the order the event names, else of its customer (the store's id)."""
    parts = dict(subject_parts(event))
    try:
        if "order" in parts:
            return order_story(session, parts["order"])
        if "customer" in parts:
            return customer_story(session, parts["customer"], store_id=True)
    except StoryNotFound:
        return None
    return None


def publish_event_story(engine: Engine, event: Mapping[str, Any]) -> str | None:
    """Inside the event flow: update the subject's story artifact; returns its key. A story
    is for people: a failure here is logged, never fails the run."""
    try:
        with Session(engine) as session:
            story = event_story(session, event)
        if story is None:
            return None
        create_markdown_artifact(
            story_markdown(story),
            key=story.key,
            description=escape(story.title),
            _sync=True,  # type: ignore[call-arg]
        )
        return story.key
    except Exception as exc:
        log.warning("could not publish the story of %s: %s", dict(subject_parts(event)), exc)
        return None

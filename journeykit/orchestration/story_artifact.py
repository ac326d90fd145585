"""Publish a customer's or an order's story (reports/story.py) as a keyed Prefect markdown
artifact, ``story-customer-<id>`` / ``story-order-<number>``: the Artifacts page keeps its
history, each new version replacing the latest."""

from __future__ import annotations

import asyncio

from prefect.artifacts import acreate_markdown_artifact


def publish_story(key: str, markdown: str, *, description: str) -> None:
    """Outside a flow run (the CLI): create the artifact on the configured Prefect API."""
    asyncio.run(acreate_markdown_artifact(markdown=markdown, key=key, description=description))

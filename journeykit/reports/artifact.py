"""Publish a funnel as a Prefect table artifact (shown in the Prefect UI next to the runs)."""

from __future__ import annotations

import asyncio

from journeykit.reports.funnel import FunnelReport


def artifact_key(journey: str) -> str:
    """Prefect artifact keys allow lower-case letters, digits and dashes only."""
    return "funnel-" + journey.lower().replace("_", "-")


def publish_funnel(report: FunnelReport) -> str:
    """Create the artifact on the configured Prefect API; returns its key."""
    from prefect.artifacts import acreate_table_artifact

    rows = [{k: v for k, v in node.items() if k != "type"} for node in report.as_json()["nodes"]]
    key = artifact_key(report.journey)
    description = (
        f"**{report.journey}**: {report.enrollments} enrollments, {report.converted} converted"
    )
    asyncio.run(acreate_table_artifact(table=rows, key=key, description=description))
    return key

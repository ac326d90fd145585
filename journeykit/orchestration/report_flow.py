"""The scheduled report run (deployment ``reports`` in prefect.yaml): every journey that has
enrollments, demand and backorder buyers, each published as a keyed Prefect markdown
artifact (``report-<journey>``, ``report-demand``, ``report-backorder``) with the same
numbers, tables and charts as ``journeys report ... --html`` (docs/reports.md)."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from sqlmodel import Session, select

from journeykit.foundation.models import Enrollment
from journeykit.reports.journey_report import journey_report
from journeykit.reports.page import Page
from journeykit.reports.report_artifact import artifact_key, page_markdown
from journeykit.reports.report_pages import backorder_page, demand_page, journey_page
from journeykit.service.runtime_factory import current_runtime


@flow(name="journeykit-reports", flow_run_name="reports")
async def publish_reports() -> dict[str, str]:
    """Publish the report artifacts; returns {report name: artifact key}."""
    runtime = current_runtime()
    now = runtime.clock.now()
    pages: list[tuple[str, Page]] = []
    with Session(runtime.engine) as session:
        ran = set(session.exec(select(Enrollment.journey).distinct()).all())
        for name in runtime.book.names():
            if name in ran:
                report = journey_report(
                    session, name, runtime.book.get(name), settings=runtime.settings
                )
                pages.append((name, journey_page(report, now=now)))
        pages.append(("demand", demand_page(session, now=now)))
        pages.append(("backorder", backorder_page(session, now=now)))
    published = {}
    for name, page in pages:
        key = artifact_key(name)
        # inside our async flow the call would return an un-awaited coroutine: force sync
        create_markdown_artifact(
            page_markdown(page),
            key=key,
            description=page.title,
            _sync=True,  # type: ignore[call-arg]
        )
        published[name] = key
    get_run_logger().info("published %s", ", ".join(published.values()))
    return published

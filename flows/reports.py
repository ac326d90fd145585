"""Prefect entry point for the scheduled report run: every journey's report, demand and
backorder buyers as keyed markdown artifacts (docs/reports.md)."""

from journeykit.orchestration.report_flow import publish_reports

__all__ = ["publish_reports"]

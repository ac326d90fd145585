"""The report pages: one journey, demand (R4), backorder (B6), and the overview the demo
writes (every journey that ran, then demand and backorder)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from journeykit.engine.book import JourneyBook
from journeykit.foundation.models import Enrollment
from journeykit.foundation.settings import Settings
from journeykit.reports.backorder import backorder_report
from journeykit.reports.demand import demand_report
from journeykit.reports.journey_report import JourneyReport, journey_report
from journeykit.reports.page import Page
from journeykit.reports.sections import (
    backorder_sections,
    demand_sections,
    journey_sections,
    summary_section,
)


def journey_page(report: JourneyReport, *, now: datetime) -> Page:
    return Page(
        title=f"What {report.journey} earns",
        subtitle="Attributed revenue, message rates, A/B verdicts and the funnel.",
        generated=now,
        sections=journey_sections(report),
    )


def demand_page(session: Session, *, now: datetime) -> Page:
    return Page(
        title="Out-of-stock demand",
        subtitle="What shoppers are waiting for and what it is worth.",
        generated=now,
        sections=demand_sections(demand_report(session), now),
    )


def backorder_page(session: Session, *, now: datetime) -> Page:
    return Page(
        title="Backorder buyers",
        subtitle="Is backorder a good way to sell?",
        generated=now,
        sections=backorder_sections(backorder_report(session)),
    )


def overview_page(
    session: Session, book: JourneyBook, *, settings: Settings, now: datetime
) -> Page:
    """Every journey with enrollments, in the book's order, then demand and backorder."""
    ran = set(session.exec(select(Enrollment.journey).distinct()).all())
    reports = [
        journey_report(session, name, book.get(name), settings=settings)
        for name in book.names()
        if name in ran
    ]
    sections = [summary_section(reports)]
    for report in reports:
        sections += journey_sections(report)
    sections += demand_sections(demand_report(session), now)
    sections += backorder_sections(backorder_report(session))
    return Page(
        title="What the journeys earn",
        subtitle="Every journey's attributed revenue, rates, A/B verdicts and funnel; demand "
        "and backorder buyers.",
        generated=now,
        sections=sections,
    )

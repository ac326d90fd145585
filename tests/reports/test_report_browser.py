"""The report page in real headless Chromium (Debian's, driven by Playwright): the page the
demo writes (``demo.run.write_report``) renders its charts with no console error. The fast
test writes it from played scenarios and the hand-built store; the slow one plays the whole
`journeys demo` first and keeps a screenshot for docs/img/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from journeykit.demo.run import run_demo, write_report
from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer
from tests.reports.conftest import ROOT, SCENARIOS, fill_database

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str]]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request {r.url}"))
    page.goto(path.as_uri())
    return page, problems


def charts_drawn(page: Any) -> dict[str, int]:
    """Per chart: how many bars, lines and markers its SVG draws on screen."""
    return page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll("figure.chart"))
          .map(f => [f.dataset.chart, Array.from(f.querySelectorAll("svg path, svg use"))
            .filter(p => { const b = p.getBoundingClientRect();
                           return b.width > 0 || b.height > 0; })
            .length]))"""
    )


def test_report_page_renders_its_charts(browser: Any, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/played.db"
    fill_database(
        url,
        [
            SCENARIOS / f"{n}.yaml"
            for n in (
                "C2_ab_split_conversion_counts",
                "C3_funnel_dashboard",
                "R4_demand_report",
                "B6_backorder_buyers_report",
            )
        ],
    )
    engine = make_engine(url)
    book = JourneyBook.from_dir(ROOT / "journeys")
    path = write_report(engine, book, Settings(), tmp_path / "report.html")
    engine.dispose()
    page, problems = open_page(browser, path)
    assert problems == []
    assert page.locator("h1").inner_text() == "What the journeys earn"
    drawn = charts_drawn(page)
    for chart in (
        "funnel",
        "arms-second_message",
        "revenue-waiting",
        "signups-per-day",
        "kept-vs-cancelled",
        "orders-per-week",
    ):
        assert drawn.get(chart, 0) > 3, (chart, drawn)
    assert "abandoned_cart" in page.locator('table[data-table="summary"]').inner_text()
    for section in ("journey-abandoned_cart", "journey-delay_apology", "demand", "backorder"):
        assert page.locator(f'section[data-section="{section}"]').is_visible()
    verdict = page.locator('[data-verdict="second_message"]').inner_text()
    assert verdict.startswith("second_message: not enough data yet")
    # the charts' text is real text (selectable, searchable), not outlines
    assert page.locator('figure[data-chart="funnel"] svg text').count() > 5


@pytest.mark.slow
@pytest.mark.prefect
def test_demo_report_page(browser: Any, tmp_path: Path) -> None:
    base = Settings()
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {"providers.sendgrid.base_url": box.url, "providers.twilio.base_url": box.url}
        )
        book = JourneyBook.from_dir(ROOT / "journeys")
        # Playwright's sync API runs an event loop in this thread; the demo's flows need
        # asyncio.run, so the demo plays in a thread of its own
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(run_demo, settings, book, tmp_path, box=box).result()
    assert result.errors == [] and result.report == tmp_path / "report.html"
    page, problems = open_page(browser, result.report)
    assert problems == []
    drawn = charts_drawn(page)
    assert drawn.get("funnel", 0) > 3 and drawn.get("revenue-waiting", 0) > 3
    restock = page.locator('section[data-section="journey-restock"]')
    assert "$149.00" in restock.locator('[data-card="revenue"]').inner_text()  # Zoe's order
    shot = os.environ.get("JOURNEYKIT_REPORT_SCREENSHOT")
    if shot:  # docs/img/report-page.png: the restock journey's part of the page
        page.evaluate("document.getElementById('journey-restock').scrollIntoView()")
        page.screenshot(path=shot, full_page=False)

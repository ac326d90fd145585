"""Screenshots of what ops see, from headless Chromium against a real ``prefect server
start`` process: the runs page (event runs named and tagged after their subject), an order's
story artifact and the automations ``journeys deploy`` creates. Each page is checked for what
it must show; with UPDATE_SCREENSHOTS=1 the images replace docs/img/prefect-runs.png,
prefect-story.png and prefect-automations.png."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.settings import Settings
from journeykit.orchestration.automations import AlertTiming, ensure_automations
from journeykit.orchestration.event_worker import EventWorker
from journeykit.orchestration.flows import journey_flow, sweep
from journeykit.sandbox.server import SandboxServer
from journeykit.service.events import accept
from journeykit.service.runtime_factory import use_runtime
from journeykit.timing.clock import VirtualClock

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ROOT = Path(__file__).parents[2]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
BAD_PHONE = "+15005550001"  # the sandbox answers Twilio 21211 (not a valid phone number)


def customer(ident: str, name: str, phone: str) -> dict[str, Any]:
    return {"id": ident, "first_name": name, "email": f"{name.lower()}@example.com",
            "phone": phone, "timezone": "UTC", "consent": {"email": True, "sms": True}}  # fmt: skip


def placed(number: str, who: dict[str, Any]) -> dict[str, Any]:
    order = {"number": number, "lines": [{"sku": "TEE-M", "quantity": 1}], "total_cents": 3200}
    return {"type": "order.placed", "customer": who, "order": order}


def delayed(number: str) -> dict[str, Any]:
    return {"type": "order.delayed", "order_number": number, "reason": "The carrier missed it.",
            "ship_from": "2026-03-20T00:00:00Z", "ship_to": "2026-03-24T00:00:00Z"}  # fmt: skip


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``prefect server start`` process on a free port with its own PREFECT_HOME."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path_factory.mktemp("prefect-home")
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}  # fmt: skip
    prefect = str(Path(sys.executable).parent / "prefect")
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/health", timeout=2)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(30)
        log.close()


def play(tmp_path: Path) -> None:
    """Three orders: two apologies sent, one to a number the provider refuses."""
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    base = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    clock = VirtualClock(pendulum.datetime(2026, 3, 2, 18, tz="UTC"))
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {"providers.sendgrid.base_url": box.url, "providers.twilio.base_url": box.url,
             "database.url": url}
        )  # fmt: skip
        runtime = Runtime(make_engine(url), clock, JourneyBook.from_dir(ROOT / "journeys"),
                          settings, owner="screenshots")  # fmt: skip
        with session_scope(runtime.engine) as session:
            for product in demo_products():
                payload = {"type": "product.upserted", "product": product}
                ingest_event(session, book=runtime.book, now=clock.now(), payload=payload)
        use_runtime(lambda: runtime)
        try:
            people = [("1042", customer("C-7", "Mina", "+12125550188")),
                      ("1043", customer("C-8", "Kenta", BAD_PHONE)),
                      ("1044", customer("C-9", "Zoe", "+12125550199"))]  # fmt: skip
            # as production runs them: the door stores each event, `journeys worker` applies
            # them (one run per batch, named after what it moved), a wake-up and the sweep
            worker = EventWorker(runtime)
            try:
                for number, who in people:
                    with session_scope(runtime.engine) as session:
                        for key, event in ((f"p{number}", placed(number, who)),
                                           (f"d{number}", delayed(number))):  # fmt: skip
                            accept(session, payload=event, key=key, source="api", now=clock.now())
                    asyncio.run(worker.run_once())
            finally:
                worker.close()
            asyncio.run(wake_up("delay_apology"))
            asyncio.run(sweep(return_state=True))
        finally:
            use_runtime(None)
            runtime.engine.dispose()


async def wake_up(journey: str) -> Any:
    """A journey's wake-up run (as a scheduled one runs): ``delay_apology · 0 due``."""
    return await journey_flow(journey)(return_state=True)


def test_screenshots_of_runs_story_and_automations(prefect_server: str, tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with temporary_settings(updates={PREFECT_API_URL: f"{prefect_server}/api"}):
        play(tmp_path)
        with get_client(sync_client=True) as client:
            ensure_automations(client, AlertTiming())
            stories = [a for a in client.read_artifacts() if a.key == "story-order-1042"]
    latest = max(stories, key=lambda a: a.created or 0)
    out = ROOT / "docs" / "img" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    pages = {
        "prefect-runs.png": (
            "/runs",
            ["delay_apology · order:1042", "customer:C-7", "safety sweep", "delay_apology · 0 due"],
        ),
        "prefect-story.png": (f"/artifacts/artifact/{latest.id}", ["order 1042", "order.delayed"]),
        "prefect-automations.png": ("/automations", ["journeykit · run stuck in Running"]),
    }  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1250})
        for image, (path, texts) in pages.items():
            page.goto(prefect_server + path, wait_until="networkidle")
            try:
                for text in texts:
                    page.get_by_text(text).first.wait_for(state="attached", timeout=30_000)
            finally:
                page.screenshot(path=str(out / image), full_page=False)
        browser.close()
    assert all((out / image).stat().st_size > 10_000 for image in pages)

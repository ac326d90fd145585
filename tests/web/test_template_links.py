"""Every shipped template, in every locale, rendered as the engine renders it (sample data,
the real composer) against the real web app's database; every link is followed: our own
routes through the app (a 2xx/3xx answer), store links must be the configured store's URLs
(order, cart, checkout, product pages), and nothing else but mail and the carrier's
tracking page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session

from journeykit.authoring.preview import run_calls_before, send_nodes
from journeykit.authoring.sample import PreviewInput, sample_enrollment
from journeykit.authoring.simulate.scenario import ScenarioCustomer
from journeykit.engine.template_context import build_context
from journeykit.messaging.compose import SMS_URL, action_extras, compose
from journeykit.messaging.store_links import is_store_url
from tests.web.conftest import PUBLIC, Web

ROOT = Path(__file__).parents[2]
JOURNEYS = sorted(p.stem for p in (ROOT / "journeys").glob("*.yaml"))
LOCALES = ("en", "ko", "ja")
HREF = re.compile(r'href="([^"]*)"')
ELSEWHERE = ("mailto:", "https://track.example/")  # mail, and the carrier's tracking page

CUSTOMER = ScenarioCustomer(
    id="C-LINKS",
    first_name="Alex",
    email="alex@example.com",
    phone="+14155550100",
    timezone="America/New_York",
    consent={"email": True, "sms": True},
)


def rendered_links(web: Web, journey_name: str) -> list[tuple[str, str, str]]:
    """(node, locale, url) of every link in every message of the journey."""
    journey = web.runtime.book.get(journey_name)
    now = web.clock.now()
    found: list[tuple[str, str, str]] = []
    with Session(web.engine) as session:
        enrollment = sample_enrollment(session, journey, PreviewInput(customer=CUSTOMER), now)
        enrollment.version = web.runtime.book.snapshot(session, journey_name, now)
        session.add(enrollment)
        session.commit()
        for node in send_nodes(journey):
            assert (
                run_calls_before(session, web.runtime.registry, journey, node.id, enrollment, now)
                is None
            )
            session.commit()
            context = build_context(
                session, settings=web.settings, journey=journey, enrollment=enrollment, now=now
            )
            category = node.category or journey.category
            extras = action_extras(
                web.settings,
                node,
                enrollment_id=enrollment.id or 0,
                customer_id=enrollment.customer_id,
                now=now,
                category=category,
            )
            for locale in LOCALES:
                content = compose(
                    web.runtime.get_renderer(),
                    node,
                    locale,
                    {**context, **extras, "locale": locale},
                    category,
                    extras["unsubscribe_url"],
                )
                urls = HREF.findall(str(content.get("html", "")))
                urls += [m.group(0) for m in SMS_URL.finditer(str(content.get("body", "")))]
                urls += [m.group(0) for m in SMS_URL.finditer(str(content.get("text", "")))]
                found += [(node.id, locale, url.replace("&amp;", "&")) for url in urls]
    return found


@pytest.mark.parametrize("journey", JOURNEYS)
def test_every_link_of_every_template_leads_somewhere(web: Web, journey: str) -> None:
    links = rendered_links(web, journey)
    assert links, f"{journey}: no links at all?"
    client = web.client()
    checked: dict[str, Any] = {}
    for node, locale, url in links:
        where = f"{journey}/{node}.{locale}: {url}"
        assert url.strip(), f"{where}: an empty link"
        if url.startswith(PUBLIC):
            if url not in checked:
                checked[url] = client.get(url[len(PUBLIC) :], follow_redirects=False).status_code
            assert 200 <= checked[url] < 400, f"{where} answered {checked[url]}"
        elif url.startswith(ELSEWHERE):
            continue
        else:
            assert is_store_url(web.settings.store, url), f"{where} is not on the store"
            assert not urlsplit(url).path.endswith(("/cart/", "/orders/")), f"{where}: empty"

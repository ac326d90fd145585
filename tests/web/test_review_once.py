"""A review link submitted four times at once (double clicks, retries) saves one review; the
other submits answer "already received" (the unique index on (customer, order, product))."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pendulum
import pytest
from sqlmodel import select

from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import Review
from journeykit.service.runtime_factory import build_runtime
from journeykit.web.app import create_app
from tests.web.conftest import LiveServer, Web, order_placed, product
from tests.web.test_action_links import token_of
from tests.web.test_review_help import review_web_product_id


def delivered_and_asked(web: Web) -> None:
    web.emit(product(), "p1")
    web.emit(order_placed(), "o1")
    web.emit({"type": "order.delivered", "order_number": "1001"}, "dl")
    web.clock.advance(pendulum.duration(days=15))
    web.sweep()
    web.clock.advance(pendulum.duration(days=1))
    web.sweep()
    assert web.enrollment("review_request").node_id == "wait_answer"


def test_four_concurrent_submits_make_one_review(live: LiveServer) -> None:
    web = live.web
    delivered_and_asked(web)
    url = live.url + web.links("ask")["review"]
    with httpx.Client(timeout=30) as client:
        page = client.get(url)
        assert page.status_code == 200
        cookies = dict(client.cookies)
    fields = {
        "csrf_token": token_of(page.text),
        "product_id": review_web_product_id(page.text),
        "rating": "5",
        "body": "Lovely sofa",
    }

    def post(_: int) -> httpx.Response:
        with httpx.Client(timeout=30, cookies=cookies) as client:
            return client.post(url, data=fields)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert {a.status_code for a in answers} == {200}
    already = [a for a in answers if "already" in a.text.lower()]
    assert len(already) == 3
    with web.session() as session:
        assert len(session.exec(select(Review)).all()) == 1


@pytest.mark.postgres
def test_four_concurrent_submits_make_one_review_on_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    upgrade(postgres_url)
    web = Web(tmp_path)
    web.engine.dispose()
    web.engine = make_engine(postgres_url)
    web.settings = web.settings.with_changes({"database.url": postgres_url})
    web.runtime = build_runtime(
        web.settings, engine=web.engine, clock=web.clock, book=web.runtime.book, owner="web-test"
    )
    web.app = create_app(web.settings, web.runtime)
    delivered_and_asked(web)
    path = web.links("ask")["review"]
    first = web.client()
    page = first.get(path)
    fields = {
        "csrf_token": token_of(page.text),
        "product_id": review_web_product_id(page.text),
        "rating": "5",
        "body": "Lovely sofa",
    }
    cookies = dict(first.cookies)

    def post(_: int) -> Any:
        client = web.client()
        client.cookies.update(cookies)
        return client.post(path, data=fields)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert {a.status_code for a in answers} == {200}
    assert sum("already" in a.text.lower() for a in answers) == 3
    with web.session() as session:
        assert len(session.exec(select(Review)).all()) == 1
    web.engine.dispose()

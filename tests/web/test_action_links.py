"""Signed action links: GET only shows, POST acts once (a second POST says so), expired or
tampered links get a friendly page and change nothing, forms need their CSRF token."""

from __future__ import annotations

import re

import pendulum
from fastapi.testclient import TestClient
from sqlmodel import select

from journeykit.foundation.models import CustomerAction, StoreCredit
from tests.web.conftest import Web

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, "the page has no CSRF field"
    return match.group(1)


def actions(web: Web) -> list[CustomerAction]:
    with web.session() as session:
        return list(session.exec(select(CustomerAction)).all())


def confirm(client: TestClient, path: str) -> tuple[int, str]:
    page = client.get(path)
    response = client.post(path, data={"csrf_token": token_of(page.text)})
    return response.status_code, response.text


def test_get_shows_the_order_and_does_nothing(delay_web: Web) -> None:
    client = delay_web.client()
    page = client.get(delay_web.links("apology_email")["credit"])
    assert page.status_code == 200
    assert "Order 1001" in page.text and "Sofa" in page.text and "Mar 20" in page.text
    assert 'lang="en"' in page.text and "Store credit" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert actions(delay_web) == []
    assert delay_web.enrollment("delay_apology").node_id == "wait_choice"


def test_post_acts_once_and_moves_the_enrollment_on(delay_web: Web) -> None:
    client = delay_web.client()
    links = delay_web.links("apology_email")
    form_token = token_of(client.get(links["credit"]).text)
    first = client.post(links["credit"], data={"csrf_token": form_token})
    assert first.status_code == 200 and "We have recorded your choice" in first.text
    enrollment = delay_web.enrollment("delay_apology")
    assert enrollment.status == "completed"  # credit issued, confirmation queued, done
    with delay_web.session() as session:
        assert len(session.exec(select(StoreCredit)).all()) == 1
    again = client.post(links["credit"], data={"csrf_token": form_token})
    assert again.status_code == 200 and "You already chose" in again.text
    other = client.post(links["cancel"], data={"csrf_token": form_token})
    assert other.status_code == 200 and "You already chose: Store credit" in other.text
    shown_again = client.get(links["credit"])
    assert "You already chose" in shown_again.text and "csrf_token" not in shown_again.text
    assert [a.name for a in actions(delay_web)] == ["credit"]


def test_korean_customer_gets_korean_pages(tmp_path: object, web: Web) -> None:
    from tests.web.conftest import delayed, order_placed, product

    web.emit(product(), "p")
    web.emit(order_placed(locale="ko"), "o")
    web.emit(delayed(), "d")
    client = web.client()
    path = web.links("apology_email")["expedite"]
    page = client.get(path)
    assert 'lang="ko"' in page.text and "주문 1001" in page.text
    status, text = confirm(client, path)
    assert status == 200 and "선택하신 내용이 저장되었습니다" in text


def test_tampered_link_is_a_friendly_404(delay_web: Web) -> None:
    client = delay_web.client()
    path = delay_web.links("apology_email")["credit"]
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    page = client.get(forged)
    assert page.status_code == 404 and "This link does not work" in page.text
    posted = client.post(forged, data={"csrf_token": token_of(client.get(path).text)})
    assert posted.status_code == 404
    assert client.get("/a/not-a-token").status_code == 404
    assert actions(delay_web) == []


def test_expired_link_is_a_friendly_410_and_changes_nothing(delay_web: Web) -> None:
    client = delay_web.client()
    path = delay_web.links("apology_email")["credit"]
    token = token_of(client.get(path).text)
    delay_web.clock.advance(pendulum.duration(days=3, minutes=1))
    page = client.get(path)
    assert page.status_code == 410 and "This offer has ended" in page.text
    assert client.post(path, data={"csrf_token": token}).status_code == 410
    assert actions(delay_web) == []


def test_post_without_csrf_token_is_refused(delay_web: Web) -> None:
    client = delay_web.client()
    path = delay_web.links("apology_email")["credit"]
    assert client.post(path).status_code == 403
    assert client.post(path, data={"csrf_token": "forged"}).status_code == 403
    # a token from another browser (another cookie) does not work either
    other = delay_web.client()
    stolen = token_of(other.get(path).text)
    client.cookies.clear()
    client.get("/healthz")
    client.cookies.set("jk_csrf", "a-different-cookie-value-123")
    assert client.post(path, data={"csrf_token": stolen}).status_code == 403
    assert actions(delay_web) == []


def test_choice_no_longer_waited_for_is_refused(delay_web: Web) -> None:
    client = delay_web.client()
    path = delay_web.links("apology_email")["credit"]
    token = token_of(client.get(path).text)
    delay_web.emit({"type": "order.shipped", "order_number": "1001"}, "ship")
    response = client.post(path, data={"csrf_token": token})
    assert response.status_code == 409 and "no longer available" in response.text
    assert actions(delay_web) == []

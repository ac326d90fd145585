"""Customer pages at the door (issue 16): a rating of "²" is a form error, not a 500; a
second help message reaches the same ticket; an expired help link says how to reach support;
form errors are post-redirect-get; one click unsubscribes and offers "undo"."""

from __future__ import annotations

import pendulum
from sqlmodel import select

from journeykit.foundation.models import Product, Review, SupportTicket
from tests.web.conftest import Web
from tests.web.test_action_links import token_of
from tests.web.test_pages import email_consents, unsubscribe_path
from tests.web.test_review_help import review_web_product_id


def test_a_superscript_rating_is_a_form_error_not_a_500(review_web: Web) -> None:
    client = review_web.client()
    path = review_web.links("ask")["review"]
    page = client.get(path)
    fields = {
        "csrf_token": token_of(page.text),
        "product_id": review_web_product_id(page.text),
        "rating": "²",
        "body": "Lovely",
    }
    answer = client.post(path, data=fields, follow_redirects=True)
    assert answer.status_code in (200, 422) and "Choose a rating" in answer.text
    with review_web.session() as session:
        assert session.exec(select(Review)).all() == []


def test_a_second_help_message_is_appended_to_the_ticket(review_web: Web) -> None:
    client = review_web.client()
    path = review_web.links("ask")["help"]
    token = token_of(client.get(path).text)
    first = client.post(path, data={"csrf_token": token, "message": "It wobbles"})
    assert first.status_code == 200
    second = client.post(path, data={"csrf_token": token, "message": "Also a leg is loose"})
    assert second.status_code == 200 and "added your new message" in second.text
    again = client.post(path, data={"csrf_token": token, "message": "Also a leg is loose"})
    assert "already been sent" in again.text
    with review_web.session() as session:
        (ticket,) = session.exec(select(SupportTicket)).all()
    assert "It wobbles" in ticket.message and "Also a leg is loose" in ticket.message
    assert ticket.message.count("Also a leg is loose") == 1


def test_an_expired_help_link_says_how_to_reach_support(review_web: Web) -> None:
    path = review_web.links("ask")["help"]
    review_web.clock.advance(pendulum.duration(days=400))
    page = review_web.client().get(path, headers={"Accept": "text/html"})
    assert page.status_code == 410
    assert "This offer has ended" not in page.text
    support = review_web.settings.store.support_email
    assert f'href="mailto:{support}"' in page.text
    with review_web.session() as session:
        assert session.exec(select(SupportTicket)).all() == []


def test_form_errors_are_post_redirect_get_and_shown_once(review_web: Web) -> None:
    client = review_web.client()
    path = review_web.links("ask")["review"]
    page = client.get(path)
    fields = {
        "csrf_token": token_of(page.text),
        "product_id": review_web_product_id(page.text),
        "rating": "0",
        "title": "Typed title",
        "body": "Typed words stay",
    }
    answer = client.post(path, data=fields, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == path
    shown = client.get(path)
    assert "Choose a rating" in shown.text and "Typed words stay" in shown.text
    assert "Typed title" in shown.text
    reloaded = client.get(path)  # the errors were shown once
    assert "Choose a rating" not in reloaded.text


def test_one_click_unsubscribes_then_offers_undo(delay_web: Web) -> None:
    client = delay_web.client()
    path = unsubscribe_path(delay_web)
    page = client.get(path + "?lang=ja")
    assert page.status_code == 200 and "配信を停止しました" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert email_consents(delay_web)[-1] == (False, "unsubscribe link")
    undo = client.post(path, data={"csrf_token": token_of(page.text), "op": "undo"})
    assert undo.status_code == 200
    assert email_consents(delay_web)[-1] == (True, "unsubscribe undone")


def test_rfc8058_one_click_answers_a_localised_page(delay_web: Web) -> None:
    answer = delay_web.client().post(
        unsubscribe_path(delay_web), data={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "You are unsubscribed" in answer.text and 'id="undo"' in answer.text
    assert email_consents(delay_web)[-1] == (False, "one-click unsubscribe")


def test_a_stored_javascript_url_never_becomes_a_link(review_web: Web) -> None:
    with review_web.session() as session:
        session.add(Product(handle="evil", title="Evil", url="javascript:alert(1)"))
        session.commit()
    client = review_web.client()
    path = review_web.links("ask")["review"]
    page = client.get(path)
    fields = {
        "csrf_token": token_of(page.text),
        "product_id": review_web_product_id(page.text),
        "rating": "5",
        "body": "Lovely",
    }
    thanks = client.post(path, data=fields)
    assert thanks.status_code == 200 and "Rug" in thanks.text  # other products are offered
    assert "javascript:" not in thanks.text

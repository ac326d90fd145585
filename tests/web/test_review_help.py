"""The review form (stars, name, title, text, optional photo with type/size limits) and the
"need help?" form behind the review ask's links."""

from __future__ import annotations

import pytest
from sqlmodel import select

from journeykit.foundation.models import CustomerAction, Review, SupportTicket
from tests.web.conftest import Web
from tests.web.images import image_bytes
from tests.web.test_action_links import token_of

PNG = image_bytes("PNG")


def reviews(web: Web) -> list[Review]:
    with web.session() as session:
        return list(session.exec(select(Review)).all())


def test_review_form_saves_review_and_thanks(review_web: Web) -> None:
    client = review_web.client()
    path = review_web.links("ask")["review"]
    page = client.get(path)
    assert page.status_code == 200 and "Review Sofa" in page.text
    assert 'type="radio"' in page.text and 'for="body"' in page.text
    assert reviews(review_web) == []  # a GET writes nothing
    sofa = review_web_product_id(page.text)
    response = client.post(
        path,
        data={
            "csrf_token": token_of(page.text),
            "product_id": sofa,
            "rating": "5",
            "name": "Ana",
            "title": "Comfy",
            "body": "Love it",
        },
        files={"photo": ("sofa.png", PNG, "image/png")},
    )
    assert response.status_code == 200, response.text
    assert "Browse and review other products" in response.text
    assert "Review Lamp" in response.text  # the order's other product
    assert "https://shop.example/p/rug-1" in response.text  # and the rest of the store
    saved = reviews(review_web)
    assert [(r.rating, r.title, r.body) for r in saved] == [(5, "Comfy", "Love it")]
    assert saved[0].photo_path and saved[0].photo_path.endswith(".png")
    enrollment = review_web.enrollment("review_request")
    assert enrollment.status == "completed"  # reviewed -> thanks sent -> done
    again = client.post(
        path,
        data={
            "csrf_token": token_of(page.text),
            "product_id": sofa,
            "rating": "1",
            "body": "again",
        },
    )
    assert "already reviewed" in again.text and len(reviews(review_web)) == 1


def review_web_product_id(page: str) -> str:
    import re

    match = re.search(r'name="product_id" value="(\d+)"', page)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("fields", "photo", "message"),
    [
        ({"rating": "0", "body": "ok"}, None, "Choose a rating"),
        ({"rating": "4", "body": ""}, None, "Please write a few words"),
        ({"rating": "4", "body": "ok"}, ("x.png", b"GIF89a" + b"0" * 20, "image/png"), "JPEG, PNG"),
        ({"rating": "4", "body": "ok"}, ("x.png", PNG + b"0" * 200_001, "image/png"), "too large"),
    ],
)
def test_invalid_review_is_shown_again_and_saves_nothing(
    review_web: Web, fields: dict[str, str], photo: tuple[str, bytes, str] | None, message: str
) -> None:
    client = review_web.client()
    path = review_web.links("ask")["review"]
    page = client.get(path)
    data = {"csrf_token": token_of(page.text), "product_id": review_web_product_id(page.text)}
    files = {"photo": photo} if photo else None
    response = client.post(path, data={**data, **fields}, files=files)
    # post, redirect, get: the form comes back (a GET) with the errors
    assert [r.status_code for r in response.history] == [303]
    assert response.status_code == 200 and message in response.text
    assert reviews(review_web) == []
    with review_web.session() as session:
        assert session.exec(select(CustomerAction)).all() == []


def test_review_without_csrf_is_refused(review_web: Web) -> None:
    client = review_web.client()
    path = review_web.links("ask")["review"]
    client.get(path)
    assert client.post(path, data={"rating": "5", "body": "x"}).status_code == 403
    assert reviews(review_web) == []


def test_help_form_opens_a_ticket_through_the_journey(review_web: Web) -> None:
    client = review_web.client()
    path = review_web.links("ask")["help"]
    page = client.get(path)
    assert page.status_code == 200 and "Need help?" in page.text
    empty = client.post(path, data={"csrf_token": token_of(page.text), "message": " "})
    assert [r.status_code for r in empty.history] == [303] and "Please describe" in empty.text
    done = client.post(path, data={"csrf_token": token_of(page.text), "message": "It wobbles"})
    assert done.status_code == 200 and "support team" in done.text
    again = client.post(path, data={"csrf_token": token_of(page.text), "message": "It wobbles"})
    assert again.status_code == 200
    with review_web.session() as session:
        tickets = session.exec(select(SupportTicket)).all()
    assert [t.message for t in tickets] == ["It wobbles"]
    assert review_web.enrollment("review_request").node_id == "wait_solved"

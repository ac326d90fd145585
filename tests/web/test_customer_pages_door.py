"""Customer pages at the door (issue 16): a rating of "²" is a form error, not a 500; a
second help message reaches the same ticket; an expired help link says how to reach support;
form errors are post-redirect-get; one click unsubscribes and offers "undo"."""

from __future__ import annotations

from sqlmodel import select

from journeykit.foundation.models import Review
from tests.web.conftest import Web
from tests.web.test_action_links import token_of
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

"""Review photos wait for the brand: uploaded ``pending`` (not served), served once approved
with the type its bytes have, ``nosniff`` and a cache header, and never once rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from journeykit.foundation.models import Review
from journeykit.web.review_moderation import ModerationError, list_reviews, moderate
from tests.web.conftest import Web
from tests.web.images import image_bytes
from tests.web.test_action_links import token_of
from tests.web.test_review_help import PNG, review_web_product_id

JPEG = image_bytes("JPEG")
WEBP = image_bytes("WEBP")


def submit(web: Web, photo: tuple[str, bytes, str] | None) -> Review:
    client = web.client()
    path = web.links("ask")["review"]
    page = client.get(path)
    fields: dict[str, Any] = {
        "csrf_token": token_of(page.text),
        "product_id": review_web_product_id(page.text),
        "rating": "4",
        "body": "Sturdy and soft",
    }
    response = client.post(path, data=fields, files={"photo": photo} if photo else None)
    assert response.status_code == 200, response.text
    with web.session() as session:
        return session.exec(select(Review)).one()


def photo_of(web: Web, review_id: int | str) -> Any:
    return web.client().get(f"/reviews/{review_id}/photo")


def test_uploaded_photo_is_pending_and_not_served(review_web: Web) -> None:
    review = submit(review_web, ("sofa.png", PNG, "image/png"))
    assert review.photo_status == "pending"
    response = photo_of(review_web, review.id)
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"
    assert PNG not in response.content


def test_approved_photo_is_served_with_its_type_and_headers(review_web: Web) -> None:
    # declared as PNG by the browser, but its bytes are a JPEG: the bytes decide
    review = submit(review_web, ("sofa.png", JPEG, "image/png"))
    assert review.photo_path and review.photo_path.endswith(".jpg")
    assert moderate(review_web.engine, review.id or 0, "approve") == ("pending", "approved")
    response = photo_of(review_web, review.id)
    assert response.status_code == 200
    assert response.content.startswith(b"\xff\xd8\xff")  # a JPEG, re-encoded
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_rejected_photo_is_never_served(review_web: Web) -> None:
    review = submit(review_web, ("sofa.webp", WEBP, "image/webp"))
    moderate(review_web.engine, review.id or 0, "approve")
    assert photo_of(review_web, review.id).headers["content-type"] == "image/webp"
    assert moderate(review_web.engine, review.id or 0, "reject") == ("approved", "rejected")
    response = photo_of(review_web, review.id)
    assert response.status_code == 404 and WEBP not in response.content


def test_missing_file_unknown_or_bad_ids_are_404(review_web: Web) -> None:
    review = submit(review_web, ("sofa.png", PNG, "image/png"))
    moderate(review_web.engine, review.id or 0, "approve")
    assert photo_of(review_web, review.id).status_code == 200
    Path(review.photo_path or "").write_bytes(b"<script>alert(1)</script>")
    assert photo_of(review_web, review.id).status_code == 404  # no longer an image
    Path(review.photo_path or "").unlink()
    assert photo_of(review_web, review.id).status_code == 404
    for bad in ("999", "abc", "-1", "1%2e%2e", "9" * 40):
        assert photo_of(review_web, bad).status_code == 404, bad


def test_review_without_photo_cannot_be_moderated(review_web: Web) -> None:
    review = submit(review_web, None)
    assert review.photo_status is None
    with pytest.raises(ModerationError, match="has no photo"):
        moderate(review_web.engine, review.id or 0, "approve")
    with pytest.raises(ModerationError, match="no review with id 404"):
        moderate(review_web.engine, 404, "reject")
    assert photo_of(review_web, review.id).status_code == 404
    assert list_reviews(review_web.engine, pending_only=True) == []
    assert [r.id for r in list_reviews(review_web.engine)] == [review.id]


def test_the_form_says_photos_are_checked_first(review_web: Web) -> None:
    page = review_web.client().get(review_web.links("ask")["review"])
    assert "Photos appear once we have checked them." in page.text
    korean = review_web.client().get(review_web.links("ask")["review"] + "?lang=ko")
    assert "사진은 확인 후 게시됩니다." in korean.text

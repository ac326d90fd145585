"""Review photos wait for the brand: a photo is ``pending`` when uploaded, and only an
``approved`` one is served (``GET /reviews/{id}/photo``); ``rejected`` ones never are. The
brand decides with ``journeys reviews list --pending`` / ``approve`` / ``reject``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Product, Review

PHOTO_PENDING, PHOTO_APPROVED, PHOTO_REJECTED = "pending", "approved", "rejected"
DECISIONS = {"approve": PHOTO_APPROVED, "reject": PHOTO_REJECTED}

# The extension a photo is saved with (from its first bytes at upload) -> its content type.
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class ModerationError(LookupError):
    """No such review, or a review without a photo (the message says which and what to do)."""


@dataclass(frozen=True)
class ReviewRow:
    id: int
    created_at: datetime
    product: str
    rating: int
    name: str
    title: str
    photo_status: str | None
    photo_path: str | None


def list_reviews(engine: Engine, *, pending_only: bool = False) -> list[ReviewRow]:
    """Reviews, newest first; ``pending_only``: those whose photo waits for a decision."""
    query = select(Review, Product.title).join(Product, col(Product.id) == Review.product_id)
    if pending_only:
        query = query.where(Review.photo_status == PHOTO_PENDING)
    query = query.order_by(col(Review.created_at).desc(), col(Review.id).desc())
    with Session(engine) as session:
        return [
            ReviewRow(
                id=int(review.id or 0),
                created_at=review.created_at,
                product=product,
                rating=review.rating,
                name=review.name,
                title=review.title,
                photo_status=review.photo_status,
                photo_path=review.photo_path,
            )
            for review, product in session.exec(query).all()
        ]


def moderate(engine: Engine, review_id: int, decision: str) -> tuple[str | None, str]:
    """Approve or reject a review's photo; returns (status before, status after)."""
    status = DECISIONS[decision]
    with session_scope(engine) as session:
        review = session.get(Review, review_id)
        if review is None:
            raise ModerationError(
                f"no review with id {review_id}: `journeys reviews list` shows the ids"
            )
        if not review.photo_path:
            raise ModerationError(f"review {review_id} has no photo: nothing to {decision}")
        before = review.photo_status
        review.photo_status = status
        session.add(review)
    return before, status


def approved_photo(engine: Engine, review_id: int) -> tuple[Path, str] | None:
    """(file, content type) of the review's photo when it is approved, else None."""
    with Session(engine) as session:
        review = session.get(Review, review_id)
    if review is None or review.photo_status != PHOTO_APPROVED or not review.photo_path:
        return None
    path = Path(review.photo_path)
    content_type = CONTENT_TYPES.get(path.suffix.lstrip(".").lower())
    return (path, content_type) if content_type else None

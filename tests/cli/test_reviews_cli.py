"""``journeys reviews list [--pending]`` and ``journeys reviews approve|reject REVIEW_ID`` on
a real migrated SQLite database: the listing, the decisions, and clear errors for ids that
name no review or a review without a photo."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from sqlmodel import Session

from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Customer, Product, Review

AT = pendulum.datetime(2026, 3, 2, 15, tz="UTC")


@pytest.fixture
def reviews_db(tmp_path: Path) -> str:
    """Three reviews of a sofa: 1 with a pending photo, 2 without photo, 3 with a photo."""
    url = f"sqlite:///{tmp_path}/reviews.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        customer = Customer(external_id="C-1", first_name="Ana", created_at=AT)
        sofa = Product(handle="sofa", title="Velvet Sofa")
        session.add_all([customer, sofa])
        session.flush()
        for n, photo in ((1, "pending"), (2, None), (3, "pending")):
            session.add(
                Review(
                    customer_id=customer.id or 0,
                    product_id=sofa.id or 0,
                    rating=n + 2,
                    name="Ana",
                    title=f"Review {n}",
                    body="ok",
                    photo_path=f"/photos/p{n}.jpg" if photo else None,
                    photo_status=photo,
                    created_at=AT.add(hours=n),
                )
            )
    engine.dispose()
    return url


def photo_status(url: str, review_id: int) -> str | None:
    engine = make_engine(url)
    with Session(engine) as session:
        review = session.get(Review, review_id)
        assert review is not None
        status = review.photo_status
    engine.dispose()
    return status


def test_list_shows_reviews_newest_first_with_photo_files(cli, reviews_db: str) -> None:
    result = cli("reviews", "list", "--database-url", reviews_db)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "Review " in line]
    assert [line.split("│")[6].strip() for line in lines] == ["Review 3", "Review 2", "Review 1"]
    assert "Velvet Sofa" in result.output and "/photos/p3.jpg" in result.output
    pending = cli("reviews", "list", "--pending", "--database-url", reviews_db)
    assert pending.exit_code == 0, pending.output
    assert "Review 1" in pending.output and "Review 3" in pending.output
    assert "Review 2" not in pending.output


def test_approve_and_reject_change_the_photo_status(cli, reviews_db: str) -> None:
    approved = cli("reviews", "approve", "3", "--database-url", reviews_db)
    assert approved.exit_code == 0, approved.output
    assert "review 3: photo pending → approved (served at /reviews/3/photo)" in approved.output
    assert photo_status(reviews_db, 3) == "approved"
    rejected = cli("reviews", "reject", "1", "--database-url", reviews_db)
    assert rejected.exit_code == 0, rejected.output
    assert "review 1: photo pending → rejected (never served)" in rejected.output
    assert photo_status(reviews_db, 1) == "rejected"
    again = cli("reviews", "reject", "1", "--database-url", reviews_db)
    assert "already rejected" in again.output
    left = cli("reviews", "list", "--pending", "--database-url", reviews_db)
    assert "no photos waiting for a decision" in left.output


def test_bad_ids_are_clear_errors_and_change_nothing(cli, reviews_db: str) -> None:
    unknown = cli("reviews", "approve", "99", "--database-url", reviews_db)
    assert unknown.exit_code == 1
    assert "no review with id 99" in unknown.output and "journeys reviews list" in unknown.output
    no_photo = cli("reviews", "approve", "2", "--database-url", reviews_db)
    assert no_photo.exit_code == 1 and "review 2 has no photo" in no_photo.output
    not_a_number = cli("reviews", "reject", "abc", "--database-url", reviews_db)
    assert not_a_number.exit_code == 2
    assert "Invalid value for 'review_id'" in not_a_number.output
    assert "valid integer" in not_a_number.output
    assert "Traceback" not in unknown.output + no_photo.output + not_a_number.output
    assert [photo_status(reviews_db, n) for n in (1, 2, 3)] == ["pending", None, "pending"]


def test_unmigrated_database_says_what_to_run(cli, tmp_path: Path) -> None:
    result = cli("reviews", "list", "--database-url", f"sqlite:///{tmp_path}/empty.db")
    assert result.exit_code == 1
    assert "journeys db upgrade" in result.output

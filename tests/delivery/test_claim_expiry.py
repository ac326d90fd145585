"""The claim expires rows among those it reads (its due candidates), never by reading the
whole queue: a due row past its validity is expired, not sent and not counted against the
claim's limit; a row whose validity ran out before it is due is expired when it comes due;
the other channel's rows are left to that channel's claim. SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from journeykit.delivery.claim import claim
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import OutboxMessage
from tests.delivery.conftest import Outbox


@pytest.fixture(params=["sqlite", "postgresql"])
def box(request: pytest.FixtureRequest, tmp_path: Path) -> Outbox:
    if request.param == "sqlite":
        return Outbox(tmp_path)
    url = request.getfixturevalue("postgres_url")
    from journeykit.foundation.db import upgrade

    upgrade(url)
    return Outbox(tmp_path, url=url)


def _due_in(box: Outbox, row_id: int, delta: timedelta) -> None:
    with session_scope(box.engine) as s:
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == row_id)
            .values(due_at=box.clock.now() + delta)
        )


def test_expired_due_rows_are_expired_and_do_not_take_the_claims_places(box: Outbox) -> None:
    stale = [box.row("sms", expires_in=timedelta(minutes=30)) for _ in range(2)]
    box.later(hours=1)
    fresh = [box.row("sms", expires_in=timedelta(hours=4)) for _ in range(2)]
    first = claim(box.runtime, limit=2, channel="sms")  # the first two due are past validity
    assert first.expired == 2 and sorted(first.ids) == sorted(fresh)
    assert {box.get(i).status for i in stale} == {"expired"}
    assert {box.get(i).status for i in fresh} == {"sending"}


def test_a_row_expired_before_it_is_due_is_expired_when_it_comes_due(box: Outbox) -> None:
    row_id = box.row("sms", expires_in=timedelta(hours=1))
    _due_in(box, row_id, timedelta(hours=3))
    box.later(hours=2)  # validity gone, not yet due: not read, left queued
    assert claim(box.runtime, limit=10).expired == 0
    assert box.get(row_id).status == "queued"
    box.later(hours=1)
    done = claim(box.runtime, limit=10)
    assert done.expired == 1 and done.ids == [] and box.get(row_id).status == "expired"


def test_one_channels_claim_leaves_the_other_channels_rows(box: Outbox) -> None:
    email = box.row("email", to="c@example.com", expires_in=timedelta(minutes=5))
    box.later(hours=1)
    assert claim(box.runtime, limit=10, channel="sms").expired == 0
    assert box.get(email).status == "queued"
    assert claim(box.runtime, limit=10, channel="email").expired == 1
    assert box.get(email).status == "expired"

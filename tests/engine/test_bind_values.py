"""``execute_many`` (a group's rows in one executemany, each distinct value converted once)
stores exactly what SQLAlchemy's own executemany stores: the same text for every datetime
(pendulum or not, in any zone), the same JSON, the statement's own constants; a naive
datetime is refused as the column type refuses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import bindparam, insert, text, update
from sqlmodel import col

from journeykit.engine.bind_values import execute_many
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import Customer, Enrollment, EnrollmentHistory, JourneyVersion
from tests.support.enrollments import enrollment_rows

NOW = pendulum.datetime(2027, 3, 1, 15, 30, 12, 345678, tz="Europe/Paris")


def _engine(tmp_path: Path, name: str) -> Any:
    url = f"sqlite:///{tmp_path}/{name}.db"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(insert(JourneyVersion).values(hash="v", journey="j", source="", created_at=NOW))
        c.execute(insert(Enrollment), enrollment_rows(3, NOW))
    return engine


def _history() -> list[dict[str, Any]]:
    moments = [
        NOW,
        NOW,  # the same object again (converted once)
        NOW.in_timezone("America/New_York"),
        datetime(2027, 3, 1, 14, 30, 12, 1, tzinfo=UTC),
        datetime(2027, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
    ]
    return [
        {
            "enrollment_id": 1 + i % 3,
            "at": at,
            "kind": "move",
            "from_node": "a",
            "to_node": None if i % 2 else "b",
            "detail": {"i": i, "why": "é ✓", "nested": [1, {"k": None}]},
        }
        for i, at in enumerate(moments)
    ]


def _stored(engine: Any, table: str) -> list[tuple[Any, ...]]:
    with engine.connect() as c:
        return [tuple(r) for r in c.execute(text(f"SELECT * FROM {table} ORDER BY id"))]


def test_inserts_store_what_sqlalchemy_stores(tmp_path: Path) -> None:
    ours, theirs = _engine(tmp_path, "ours"), _engine(tmp_path, "theirs")
    with ours.begin() as c:
        execute_many(c, insert(EnrollmentHistory), _history())
    with theirs.begin() as c:
        c.execute(insert(EnrollmentHistory), _history())
    assert _stored(ours, "enrollmenthistory") == _stored(theirs, "enrollmenthistory")
    assert len(_stored(ours, "enrollmenthistory")) == 5


def test_updates_with_named_and_constant_values_store_the_same(tmp_path: Path) -> None:
    statement = (
        update(Enrollment)
        .where(col(Enrollment.id) == bindparam("w_id"))
        .values(wake_at=bindparam("w_wake"), data=bindparam("w_data"), status="waiting")
    )
    rows: list[dict[str, Any]] = [
        {"w_id": 1, "w_wake": NOW, "w_data": {"wave": "alert"}},
        {"w_id": 2, "w_wake": None, "w_data": {}},
        {"w_id": 3, "w_wake": NOW.add(hours=12), "w_data": {"1": [2]}},
    ]
    ours, theirs = _engine(tmp_path, "ours"), _engine(tmp_path, "theirs")
    with ours.begin() as c:
        execute_many(c, statement, rows)
    with theirs.begin() as c:
        c.execute(statement, rows)
    assert _stored(ours, "enrollment") == _stored(theirs, "enrollment")
    with ours.connect() as c:
        assert set(c.execute(text("SELECT status FROM enrollment")).scalars()) == {"waiting"}


def test_a_naive_datetime_is_refused_like_the_column_refuses_it(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "naive")
    rows = _history()
    rows[2]["at"] = datetime(2027, 3, 1, 12, 0)
    with pytest.raises(ValueError, match="timezone"), engine.begin() as c:
        execute_many(c, insert(EnrollmentHistory), rows)
    assert _stored(engine, "enrollmenthistory") == []


def test_nothing_to_write_is_no_statement(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "empty")
    with engine.begin() as c:
        execute_many(c, insert(Customer), [])


def test_on_postgresql_the_rows_go_through_sqlalchemy_with_plain_datetimes(
    postgres_url: str,
) -> None:
    """PostgreSQL keeps SQLAlchemy's many-rows INSERT; each instant is stored as given."""
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as c:
        c.execute(insert(JourneyVersion).values(hash="v", journey="j", source="", created_at=NOW))
        c.execute(insert(Enrollment), enrollment_rows(3, NOW))
    rows = _history()
    with engine.begin() as c:
        execute_many(c, insert(EnrollmentHistory), rows)
    with engine.connect() as c:
        stored = c.execute(text("SELECT at, detail FROM enrollmenthistory ORDER BY id")).all()
    assert [at for at, _ in stored] == [row["at"] for row in rows]  # the same instants
    assert [detail for _, detail in stored] == [row["detail"] for row in rows]
    assert rows[0]["at"] is NOW  # the caller's rows are left as they were
    engine.dispose()

"""Enrolling a whole audience at once: the re-entry rule is checked per chunk of subjects,
rows go in with one flush, and the result is the same as enrolling one by one."""

from __future__ import annotations

from sqlmodel import func, select

from journeykit.engine.route import IN_CHUNK, AudienceMember, enroll, enroll_many
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Enrollment, EnrollmentHistory
from tests.engine.conftest import email


def journey(reentry: str) -> str:
    return f"""
name: j_{reentry}
trigger: {{event: inventory.changed}}
subject: sku
reentry: {reentry}
category: transactional
nodes:
  - {{id: start, type: wait, duration: 1d, next: done}}
  - {{id: done, type: exit}}
"""


def members(*subjects: str) -> list[AudienceMember]:
    return [AudienceMember(None, s, {"n": i}) for i, s in enumerate(subjects)]  # type: ignore[arg-type]


def start(h, name: str, subjects: list[str]) -> list[Enrollment]:
    with session_scope(h.engine) as session:
        return enroll_many(
            session,
            book=h.runtime.book,
            journey=h.runtime.book.get(name),
            now=h.clock.now(),
            members=members(*subjects),
        )


def counts(h) -> tuple[int, int]:
    with h.session() as s:
        rows = s.exec(select(func.count()).select_from(Enrollment)).one()
        history = s.exec(select(func.count()).select_from(EnrollmentHistory)).one()
    return rows, history


def test_a_subject_listed_twice_starts_once_in_its_first_place(harness) -> None:
    h = harness([journey("after_exit")], {"t.en.email.html": email("x", "x")})
    started = start(h, "j_after_exit", ["sku:A", "sku:B", "sku:A", "sku:C"])
    assert [(e.subject_key, e.data["n"]) for e in started] == [
        ("sku:A", 0), ("sku:B", 1), ("sku:C", 3)
    ]  # fmt: skip
    assert counts(h) == (3, 3)  # one 'enter' history row each
    assert start(h, "j_after_exit", ["sku:A", "sku:D"])[0].subject_key == "sku:D"


def test_once_never_again_and_always_every_time(harness) -> None:
    h = harness([journey("once"), journey("always")], {"t.en.email.html": email("x", "x")})
    assert len(start(h, "j_once", ["sku:A"])) == 1
    with session_scope(h.engine) as session:
        row = session.exec(select(Enrollment).where(Enrollment.journey == "j_once")).one()
        row.status, row.active_key = "completed", None
        session.add(row)
    assert start(h, "j_once", ["sku:A"]) == []
    assert len(start(h, "j_always", ["sku:A", "sku:A"])) == 2


def test_audiences_larger_than_one_in_list(harness) -> None:
    h = harness([journey("after_exit")], {"t.en.email.html": email("x", "x")})
    subjects = [f"sku:{i}" for i in range(IN_CHUNK + 7)]
    assert len(start(h, "j_after_exit", subjects[:10])) == 10
    started = start(h, "j_after_exit", subjects)
    assert [e.subject_key for e in started] == subjects[10:]
    assert counts(h) == (len(subjects), len(subjects))


def test_enroll_one_keeps_its_answer(harness) -> None:
    h = harness([journey("after_exit")], {"t.en.email.html": email("x", "x")})
    with session_scope(h.engine) as session:
        kw = {"book": h.runtime.book, "journey": h.runtime.book.get("j_after_exit")}
        first = enroll(
            session, **kw, now=h.clock.now(), subject_key="sku:Z", customer_id=None, data={}
        )
        again = enroll(
            session, **kw, now=h.clock.now(), subject_key="sku:Z", customer_id=None, data={}
        )
        assert first is not None and first.id and again is None

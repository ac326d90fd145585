"""Enrollments finish on the version they started; ``migrate`` moves waiting ones to another
version with a node mapping, all or nothing, with history rows."""

from __future__ import annotations

import pytest
from sqlmodel import select

from journeykit.engine.book import JourneyBook
from journeykit.engine.version_moves import (
    MigrationError,
    apply,
    parse_mapping,
    plan,
    target_version,
)
from journeykit.foundation.models import Enrollment, EnrollmentHistory, OutboxMessage
from tests.authoring.conftest import V2


def templates_sent(h) -> list[str]:
    with h.session() as s:
        return [m.template for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]


def only_enrollment(h) -> Enrollment:
    with h.session() as s:
        return s.exec(select(Enrollment)).one()


def test_an_enrollment_finishes_on_the_version_it_started(waiting) -> None:
    h = waiting
    h.runtime.book = JourneyBook.from_sources(V2)  # the file changed: v1 is gone from it
    h.later(days=3)
    assert templates_sent(h) == ["t/receipt", "t/ask"]  # v1's path, not v2's ask_again
    row = only_enrollment(h)
    assert (row.version, row.status, row.exit_reason) == (h.v1, "completed", "completed")


def test_unmapped_nodes_are_an_error_and_nothing_moves(waiting) -> None:
    h = waiting
    target = target_version(h.engine, "care", h.v2[:8])
    migration = plan(h.engine, "care", target, {}, h.clock.now())
    assert dict(migration.unmapped) == {(h.v1, "pause"): 1}
    with pytest.raises(MigrationError, match="unmapped"):
        apply(h.engine, migration, target, h.clock.now())
    assert only_enrollment(h).version == h.v1


def test_migrate_moves_waiting_enrollments_and_records_history(waiting) -> None:
    h = waiting
    target = target_version(h.engine, "care", h.v2)
    migration = plan(h.engine, "care", target, parse_mapping(["pause=settle"]), h.clock.now())
    assert {(k.from_node, k.to_node): len(v) for k, v in migration.moves.items()} == {
        ("pause", "settle"): 1
    }
    before = only_enrollment(h).wake_at
    assert apply(h.engine, migration, target, h.clock.now()) == 1
    row = only_enrollment(h)
    assert (row.version, row.node_id, row.status, row.wake_at) == (
        h.v2,
        "settle",
        "waiting",
        before,
    )
    with h.session() as s:
        history = s.exec(select(EnrollmentHistory).where(EnrollmentHistory.kind == "migrate")).one()
    assert (history.from_node, history.to_node) == ("pause", "settle")
    assert history.detail == {"from_version": h.v1, "to_version": h.v2}
    h.later(days=3)
    assert templates_sent(h) == ["t/receipt", "t/ask2"]  # continues on v2
    assert only_enrollment(h).exit_reason == "finished"


def test_moved_onto_a_node_that_does_not_wait_it_runs_at_the_next_sweep(waiting) -> None:
    h = waiting
    target = target_version(h.engine, "care", h.v2)
    migration = plan(h.engine, "care", target, {"pause": "ask_again"}, h.clock.now())
    apply(h.engine, migration, target, h.clock.now())
    assert only_enrollment(h).status == "active"
    h.sweep()  # no time passes
    assert templates_sent(h) == ["t/receipt", "t/ask2"]


def test_bad_mapping_and_unknown_version_say_what_to_write(waiting) -> None:
    with pytest.raises(MigrationError, match="OLD_NODE=NEW_NODE"):
        parse_mapping(["pause"])
    with pytest.raises(MigrationError, match="has no version 'ffff'"):
        target_version(waiting.engine, "care", "ffff")


def test_an_enrollment_being_advanced_right_now_is_left_alone(waiting) -> None:
    h = waiting
    from datetime import timedelta

    from journeykit.foundation.db import session_scope

    with session_scope(h.engine) as session:
        row = session.exec(select(Enrollment)).one()
        row.lease_owner, row.lease_until = "sweeper", h.clock.now() + timedelta(minutes=5)
        session.add(row)
    target = target_version(h.engine, "care", h.v2)
    migration = plan(h.engine, "care", target, {"pause": "settle"}, h.clock.now())
    assert (migration.busy, migration.total) == (1, 0)

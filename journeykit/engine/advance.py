"""Advance a batch of enrollments: claim what is due (a lease, ``FOR UPDATE SKIP LOCKED``
on PostgreSQL), then move them node by node — one group per (journey version, node) per
round, each group one transaction that runs on through the instant nodes that follow
(``CHAINED``) — until every one is parked or finished."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from journeykit.engine.bind_values import execute_many
from journeykit.engine.nodes.base import Step, StepContext
from journeykit.engine.nodes.handlers import handler_for
from journeykit.engine.outbox_rows import defer_outbox, write_deferred_outbox
from journeykit.engine.runtime import Runtime
from journeykit.engine.template_context import CUSTOMERS
from journeykit.engine.transitions import (
    defer_history,
    finished_values,
    record,
    write_deferred_history,
)
from journeykit.foundation.db import session_scope, unindexed
from journeykit.foundation.models import Customer, Enrollment, pk
from journeykit.language.nodes import SendNode
from journeykit.messaging.compliance import GROUP_CACHE, prefetch_consents

log = logging.getLogger(__name__)
MAX_ROUNDS = 200
LIVE = ("active", "waiting")
# Node types that decide at once from what the transaction already holds: a group passes
# through them in one transaction (``call`` nodes run actions, which may write what a later
# node reads, so a group stops before one and it runs as its own group).
CHAINED = frozenset({"branch", "split", "send", "wait", "wait_for", "exit"})
MAX_CHAIN = 50  # nodes one transaction passes at most (a loop of branches ends here)


@dataclass(frozen=True)
class GroupKey:
    journey: str
    version: str
    node_id: str

    @property
    def label(self) -> str:
        return f"{self.journey}.{self.node_id}"


@dataclass
class Move:
    enrollment_id: int
    subject: str
    from_node: str
    to: str  # next node id, "wait", "exit:<reason>" or "failed"


@dataclass
class GroupResult:
    moves: list[Move] = field(default_factory=list)
    continuing: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class BatchReport:
    claimed: int = 0
    moves: list[Move] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    groups: int = 0


GroupRunner = Callable[[Runtime, GroupKey, list[int]], GroupResult]


def claim_due(
    runtime: Runtime, *, limit: int, journey: str | None = None, ids: list[int] | None = None
) -> list[int]:
    """Lease up to ``limit`` due enrollments to this owner; an expired lease (a crashed
    worker) is taken over. PostgreSQL: the candidates are locked ``FOR UPDATE SKIP LOCKED``,
    so concurrent workers take disjoint sets. Every database: the lease is written only where
    the row is still due and unleased (``UPDATE ... RETURNING``), so a worker that read the
    same candidates as another (SQLite has no row locks) gets only the rows it really won."""
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        query = (
            select(Enrollment.id)
            .where(*claimable(now, by_index=ids is None))  # given ids, found by them
            .order_by(col(Enrollment.wake_at), col(Enrollment.id))
        )
        if journey:
            query = query.where(Enrollment.journey == journey)
        if ids is not None:
            query = query.where(col(Enrollment.id).in_(ids))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        candidates = list(session.exec(query.limit(limit)).all())
        if not candidates:
            return []
        won = session.execute(
            update(Enrollment)
            .where(col(Enrollment.id).in_(candidates), *claimable(now, by_index=False))
            .values(
                lease_owner=runtime.owner,
                lease_until=now + timedelta(seconds=runtime.settings.scale.lease_seconds),
            )
            .returning(col(Enrollment.id))
        )
        claimed = {int(row[0]) for row in won}
    return [i for i in candidates if i in claimed]


def claimable(now: datetime, *, by_index: bool = True) -> tuple[Any, ...]:
    """What a claimable enrollment is; ``by_index=False`` for rows already found by id (the
    status then must not choose the plan: :func:`journeykit.foundation.db.unindexed`)."""
    status = col(Enrollment.status) if by_index else unindexed(Enrollment.status)
    return (
        status.in_(LIVE),
        col(Enrollment.wake_at) <= now,
        col(Enrollment.lease_until).is_(None) | (col(Enrollment.lease_until) < now),
    )


def advance(runtime: Runtime, ids: list[int], run_group: GroupRunner | None = None) -> BatchReport:
    """Move the claimed enrollments until each is parked or finished."""
    run_group = run_group or run_node_group
    report = BatchReport(claimed=len(ids))
    pending = ids
    for _ in range(MAX_ROUNDS):
        if not pending:
            break
        for key, group in _group(runtime, pending).items():
            result = run_group(runtime, key, group)
            report.groups += 1
            report.moves += result.moves
            report.errors += result.errors
            done = set(group)
            pending = [i for i in pending if i not in done] + result.continuing
        pending = list(dict.fromkeys(pending))
    return report


class _EnrollmentFailed(Exception):
    """A handler failed in the optimistic pass: run the group again, isolating each one."""


def run_node_group(runtime: Runtime, key: GroupKey, ids: list[int]) -> GroupResult:
    """Run one node's handler for a group of enrollments, in one transaction. First without
    savepoints (no SAVEPOINT/RELEASE per enrollment, and rows written in one flush where the
    handlers do not query); if any enrollment fails, that transaction is rolled back whole and
    the group runs again with a savepoint per enrollment, so the failing one is rolled back
    alone and marked failed. Handlers only write through the session, so a rerun is safe."""
    try:
        return _run_group(runtime, key, ids, isolate=False)
    except Exception:  # a handler, or the flush at commit: rolled back, nothing written
        return _run_group(runtime, key, ids, isolate=True)


def _run_group(runtime: Runtime, key: GroupKey, ids: list[int], *, isolate: bool) -> GroupResult:
    """The group's enrollments run their node; then, in the same transaction, those that
    went on to a node that decides at once (:data:`CHAINED`) run that one too, node by node
    (every enrollment at a node before the next node), until each is parked, finished, or
    at a node that is not chained (a ``call``: an action may change what later nodes read).
    The enrollments and their customers are loaded once and each is written once, however
    many nodes it passes. With ``isolate`` (after a failure) only the group's own node runs,
    each enrollment in its savepoint; those that move on continue in the next round."""
    result = GroupResult()
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        journey = runtime.book.at_version(session, key.version)
        rows = session.exec(select(Enrollment).where(col(Enrollment.id).in_(ids))).all()
        customers = _load_customers(session, rows)
        customer_ids = {pk(c) for c in customers}
        session.info[GROUP_CACHE] = {CUSTOMERS: {pk(c): c for c in customers}}
        if not isolate:
            defer_history(session)
            defer_outbox(session)
        prefetched: set[str] = set()
        written: dict[int, Enrollment] | None = None if isolate else {}
        # lost the lease or moved elsewhere meanwhile: left alone
        stage: dict[str, list[Enrollment]] = {
            key.node_id: [
                e for e in rows if e.lease_owner == runtime.owner and e.node_id == key.node_id
            ]
        }
        for depth in range(1 if isolate else MAX_CHAIN):
            following: dict[str, list[Enrollment]] = defaultdict(list)
            for node_id, group in stage.items():
                node = journey.node(node_id)
                handler = handler_for(node.type)
                if isinstance(node, SendNode) and node.channel not in prefetched:
                    prefetch_consents(session, customer_ids, node.channel, customers)
                    prefetched.add(node.channel)
                # an action queries enrollments: its stage's moves go through the ORM, so
                # its queries see them (autoflush); a call node only ever starts a group
                moved = None if node.type == "call" else written
                for enrollment in group:
                    if depth and (enrollment.status != "active" or enrollment.node_id != node_id):
                        continue  # exited or moved meanwhile (an event an action emitted)
                    woken = enrollment.status == "waiting"
                    savepoint = session.begin_nested() if isolate else None
                    try:
                        context = StepContext(
                            session, runtime, journey, node, enrollment, now, woken
                        )
                        step = handler(context)
                        move = _apply(session, enrollment, node.id, step, now, moved)
                        if savepoint is not None:
                            savepoint.commit()
                    except Exception as exc:
                        if savepoint is None:
                            raise _EnrollmentFailed from exc
                        savepoint.rollback()
                        message = (
                            f"{journey.name} · {enrollment.subject_key} · node {node.id}: {exc}"
                        )
                        log.error(message)
                        _fail(session, enrollment, node.id, now, str(exc))
                        result.errors.append(message)
                        move = Move(enrollment.id, enrollment.subject_key, node.id, "failed")  # type: ignore[arg-type]
                    result.moves.append(move)
                    if enrollment.status != "active":
                        continue
                    if (
                        not isolate
                        and depth + 1 < MAX_CHAIN
                        and (journey.node(enrollment.node_id).type in CHAINED)
                    ):
                        following[enrollment.node_id].append(enrollment)
                    else:
                        result.continuing.append(enrollment.id)  # type: ignore[arg-type]
            if any(journey.node(node_id).type == "call" for node_id in stage):
                # an action may have written what the group's lookups hold: read again
                session.info[GROUP_CACHE] = {CUSTOMERS: {pk(c): c for c in customers}}
                prefetched.clear()
            stage = following
            if not stage:
                break
        if written is not None:
            _write_enrollments(session, written)
        write_deferred_outbox(session)
        write_deferred_history(session)
    return result


def _load_customers(session: Session, rows: Sequence[Enrollment]) -> list[Customer]:
    """The group's customers in one query: handlers' ``session.get(Customer, id)`` then finds
    them in the identity map instead of asking the database once per enrollment."""
    ids = {e.customer_id for e in rows if e.customer_id is not None}
    if not ids:
        return []
    return list(session.exec(select(Customer).where(col(Customer.id).in_(ids))).all())


def continuing_after_failure(
    runtime: Runtime, key: GroupKey, ids: list[int], error: str
) -> GroupResult:
    """A group's outcome read back from the database (when its runner failed part-way)."""
    with Session(runtime.engine) as session:
        rows = session.exec(select(Enrollment).where(col(Enrollment.id).in_(ids))).all()
    moved = [e.id for e in rows if e.status == "active" and e.node_id != key.node_id]
    return GroupResult(continuing=moved, errors=[f"{key.label}: {error}"])  # type: ignore[arg-type]


def _apply(
    session: Session,
    enrollment: Enrollment,
    node_id: str,
    step: Step,
    now: datetime,
    written: dict[int, Enrollment] | None = None,
) -> Move:
    """Record the step's history and change the enrollment. With ``written`` (a group run
    without savepoints) the new values go into the object's state uninstrumented and the
    enrollment is collected there, to be written with the group's others by one executemany
    UPDATE (:func:`_write_enrollments`): an instrumented attribute set costs ~20 µs, the
    unit of work's flush more, and an enrollment passing five nodes would pay them five
    times. Without it (each enrollment in its savepoint, which must be able to roll the
    object back) the attributes that change are set through the ORM."""
    values: dict[str, Any] = {"updated_at": now}
    if step.data:
        values["data"] = {
            k: v for k, v in {**enrollment.data, **step.data}.items() if v is not None
        }
    move = Move(enrollment.id, enrollment.subject_key, node_id, "")  # type: ignore[arg-type]
    if step.kind == "goto":
        assert step.next
        record(session, enrollment, now, "step", node_id, step.next, step.detail)
        values |= {
            "node_id": step.next,
            "visits": {**enrollment.visits, step.next: enrollment.visits.get(step.next, 0) + 1},
            "status": "active",
            "wake_at": now,
            "waiting_for": [],
        }
        move.to = step.next
    elif step.kind == "park":
        wake_at = step.wake_at.isoformat() if step.wake_at else None
        record(
            session, enrollment, now, "wait", node_id, node_id, {**step.detail, "wake_at": wake_at}
        )
        values |= {
            "status": "waiting",
            "wake_at": step.wake_at,
            "waiting_for": list(step.waiting_for),
            "lease_owner": None,
            "lease_until": None,
        }
        move.to = "wait"
    else:
        if step.detail:
            record(session, enrollment, now, "step", node_id, None, step.detail)
        record(session, enrollment, now, "exit", enrollment.node_id, None, {"reason": step.reason})
        values |= finished_values(now, status="completed") | {"exit_reason": step.reason}
        move.to = f"exit:{step.reason}"
    if written is None:
        for name, value in values.items():
            if getattr(enrollment, name) != value:  # only what changes (each set costs)
                setattr(enrollment, name, value)
        session.add(enrollment)
    else:
        enrollment.__dict__.update(values)
        written[enrollment.id] = enrollment  # type: ignore[index]
    return move


# What a move, a park or an exit can change (``_apply``): written for every enrollment of a
# group by one statement, whatever each changed.
_MOVED = (
    "node_id",
    "status",
    "wake_at",
    "waiting_for",
    "data",
    "visits",
    "lease_owner",
    "lease_until",
    "updated_at",
    "active_key",
    "exit_reason",
)
_WRITE_MOVED = (
    update(Enrollment)
    .where(col(Enrollment.id) == bindparam("w_id"))
    .values({name: bindparam(f"w_{name}") for name in _MOVED})
)


def _write_enrollments(session: Session, written: dict[int, Enrollment]) -> None:
    """Write the enrollments :func:`_apply` changed uninstrumented, in one executemany."""
    if written:
        rows = [
            {"w_id": eid, **{f"w_{name}": e.__dict__[name] for name in _MOVED}}
            for eid, e in written.items()
        ]
        execute_many(session.connection(), _WRITE_MOVED, rows)
        written.clear()


def _fail(
    session: Session, enrollment: Enrollment, node_id: str, now: datetime, error: str
) -> None:
    record(session, enrollment, now, "error", node_id, None, {"error": error[:2000]})
    enrollment.status, enrollment.error = "failed", error[:2000]
    enrollment.active_key = enrollment.lease_owner = enrollment.lease_until = None
    enrollment.updated_at = now
    session.add(enrollment)


def _group(runtime: Runtime, ids: list[int]) -> dict[GroupKey, list[int]]:
    groups: dict[GroupKey, list[int]] = defaultdict(list)
    with Session(runtime.engine) as session:
        rows = session.exec(
            select(Enrollment.id, Enrollment.journey, Enrollment.version, Enrollment.node_id).where(
                col(Enrollment.id).in_(ids), unindexed(Enrollment.status).in_(("active", "waiting"))
            )
        ).all()
    for eid, journey, version, node_id in rows:
        groups[GroupKey(journey, version, node_id)].append(int(eid or 0))
    return dict(groups)

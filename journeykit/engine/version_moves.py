"""Move waiting enrollments of a journey from the version they started on to another one.

Without a migration every enrollment finishes on its own version (``JourneyBook.at_version``
reads its snapshot). A migration is explicit: each enrollment's node is mapped to a node of
the target version (``--map old=new``, default the same id); the impact is computed first and
an unmapped node is an error; then every move and its history row is written in one
transaction. A waiting enrollment keeps its wake time; moved onto a node that does not wait,
it becomes due at once (the next sweep runs that node)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from journeykit.engine.book import parse_source
from journeykit.engine.transitions import record
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Enrollment, JourneyVersion
from journeykit.language.journey import Journey
from journeykit.language.nodes import WaitForNode, WaitNode
from journeykit.timing.clock import aware


class MigrationError(ValueError):
    """The migration cannot be done as asked; nothing was written."""


@dataclass(frozen=True)
class MoveKey:
    from_version: str
    from_node: str
    to_node: str


@dataclass
class MigrationPlan:
    journey: str
    target: str
    moves: dict[MoveKey, list[int]] = field(default_factory=dict)
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (version, node)
    busy: int = 0  # leased right now by a sweep: left alone

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.moves.values())


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["old=new", ...]`` → ``{"old": "new"}``; a malformed pair raises MigrationError."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise MigrationError(f"--map {pair!r}: write OLD_NODE=NEW_NODE, e.g. update=update_v2")
        mapping[old.strip()] = new.strip()
    return mapping


def resolve_version(session: Session, journey: str, version: str) -> JourneyVersion:
    """A snapshotted version of ``journey`` by hash or unique hash prefix."""
    rows = session.exec(
        select(JourneyVersion).where(
            JourneyVersion.journey == journey, col(JourneyVersion.hash).startswith(version)
        )
    ).all()
    if not rows:
        known = session.exec(
            select(JourneyVersion.hash).where(JourneyVersion.journey == journey)
        ).all()
        hint = ", ".join(known) or "none yet"
        raise MigrationError(f"{journey} has no version {version!r} (versions: {hint})")
    if len(rows) > 1:
        raise MigrationError(f"{version!r} matches {len(rows)} versions of {journey}: say more")
    return rows[0]


@dataclass(frozen=True)
class Target:
    version: str
    journey: Journey
    source: str  # stored as a JourneyVersion row on apply if it is not yet


def target_version(engine: Engine, journey: str, version: str) -> Target:
    """A version already snapshotted in the database (hash or unique prefix)."""
    with Session(engine) as session:
        row = resolve_version(session, journey, version)
        return Target(row.hash, parse_source(row.source), row.source)


def plan(
    engine: Engine, journey: str, target: Target, mapping: dict[str, str], now: datetime
) -> MigrationPlan:
    """Which waiting enrollments go where; reads only."""
    target_journey = target.journey
    with Session(engine) as session:
        result = MigrationPlan(journey, target.version)
        enrollments = session.exec(
            select(Enrollment).where(
                Enrollment.journey == journey,
                Enrollment.status == "waiting",
                Enrollment.version != target.version,
            )
        ).all()
    known = {n.id for n in target_journey.nodes}
    for enrollment in enrollments:
        if enrollment.lease_until is not None and aware(enrollment.lease_until) >= now:
            result.busy += 1
            continue
        to_node = mapping.get(enrollment.node_id, enrollment.node_id)
        if to_node not in known:
            result.unmapped[(enrollment.version, enrollment.node_id)] += 1
            continue
        key = MoveKey(enrollment.version, enrollment.node_id, to_node)
        result.moves.setdefault(key, []).append(int(enrollment.id or 0))
    return result


def apply(
    engine: Engine,
    migration: MigrationPlan,
    target: Target,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Move every planned enrollment (one transaction); returns how many moved."""
    if migration.unmapped:
        raise MigrationError("unmapped nodes: nothing was migrated")
    moved = 0
    with session_scope(engine) as session:
        if session.get(JourneyVersion, target.version) is None:
            session.add(
                JourneyVersion(
                    hash=target.version,
                    journey=migration.journey,
                    source=target.source,
                    created_at=now,
                )
            )
            session.flush()
        for key, ids in migration.moves.items():
            node = target.journey.node(key.to_node)
            rows = session.exec(select(Enrollment).where(col(Enrollment.id).in_(ids))).all()
            for enrollment in rows:
                if enrollment.status != "waiting" or enrollment.version != key.from_version:
                    raise MigrationError(
                        f"enrollment {enrollment.id} moved while migrating: nothing was migrated"
                    )
                detail = {"from_version": key.from_version, "to_version": migration.target}
                record(session, enrollment, now, "migrate", key.from_node, key.to_node, detail)
                enrollment.version, enrollment.node_id = migration.target, key.to_node
                if isinstance(node, WaitForNode):
                    enrollment.waiting_for = [o.signal for o in node.outcomes]
                elif not isinstance(node, WaitNode):
                    enrollment.status, enrollment.wake_at = "active", now
                    enrollment.waiting_for = []
                enrollment.updated_at = now
                session.add(enrollment)
                moved += 1
            if progress:
                progress(len(rows))
    return moved

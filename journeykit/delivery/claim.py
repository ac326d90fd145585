"""Claim due outbox rows for sending: expire what ran out of validity, push rows that fell
into quiet hours (a retry's backoff or a worker outage can land a row at night) to the next
allowed minute, withdraw what the send-time guard finds no longer true
(:mod:`journeykit.delivery.send_guard`), turn SMS links into tracked short links, and move
the rest queued -> sending (all committed before any provider call). The simulator claims
through this same function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from journeykit.delivery.send_guard import check
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope, unindexed
from journeykit.foundation.models import OutboxMessage
from journeykit.messaging.compliance import allowed_in_zones, quiet_window_note
from journeykit.messaging.compose import shorten_sms_contents

# The claim's session holds the rows it read; its UPDATEs need not (and, matching each
# statement against every loaded row, must not: O(rows²)) bring those objects up to date.
NO_SYNC = {"synchronize_session": False}


@dataclass
class Claimed:
    ids: list[int] = field(default_factory=list)
    expired: int = 0
    deferred: int = 0
    withdrawn: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # why rows were withdrawn


def claim(
    runtime: Runtime, *, limit: int, channel: str | None = None, journey: str | None = None
) -> Claimed:
    """Claim up to ``limit`` due rows (one channel or both; one journey's or all) for this
    worker."""
    now = runtime.clock.now()
    claimed = Claimed()
    with session_scope(runtime.engine) as session:
        # Expire among the rows this claim would read (its first ``limit`` due rows, in its
        # order): a queued row is never sent past its validity, and the claim reads what is
        # due, never the whole queue (a fan-out's 100,000 queued rows are all due). A row
        # whose validity ran out before it is due is expired when it comes due. The UPDATE
        # is the transaction's first statement: on SQLite it takes the write lock, so claims
        # of several processes never read the same rows.
        due = _due(session, now, limit=limit, channel=channel, journey=journey)
        expired = session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id).in_(due.with_only_columns(col(OutboxMessage.id))),
                unindexed(OutboxMessage.status) == "queued",
                col(OutboxMessage.expires_at) <= now,
            )
            .values(status="expired", error="validity ran out before it could be sent"),
            execution_options=NO_SYNC,
        )
        claimed.expired = int(getattr(expired, "rowcount", 0) or 0)
        query = due
        if channel == "email":  # the claim reads no email's content (SMS: for short links)
            query = query.options(defer(OutboxMessage.content))  # type: ignore[arg-type]
        candidates: list[OutboxMessage] = []
        quiet: dict[str, datetime | None] = {}  # a batch's rows share a few windows
        for row in session.exec(query).all():
            decisions = list(row.decisions or [])
            later = _quiet_until(decisions, now, quiet)
            if later is None:
                candidates.append(row)
                continue
            note = {"rule": "quiet_hours", "deferred_to": later.isoformat(), "at": now.isoformat()}
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id)
                .values(due_at=later, decisions=[*decisions, note]),
                execution_options=NO_SYNC,
            )
            claimed.deferred += 1
        verdict = check(session, runtime, candidates, now)
        withdrawn = {w.row_id: w.reason for w in verdict.withdrawn}
        for row in candidates:
            if row.id in verdict.deferred:
                _defer_for_cap(session, row, *verdict.deferred[row.id], now)
                claimed.deferred += 1
        if withdrawn:
            _withdraw(session, withdrawn)
            claimed.withdrawn = len(withdrawn)
            for reason in withdrawn.values():
                kind = reason.split(":", 1)[0].split(" (", 1)[0]
                claimed.reasons[kind] = claimed.reasons.get(kind, 0) + 1
        to_shorten: dict[str, OutboxMessage] = {}
        for row in candidates:
            if row.id in withdrawn or row.id in verdict.deferred:
                continue
            claimed.ids.append(int(row.id))  # type: ignore[arg-type]
            if row.channel == "sms" and runtime.settings.sending.sms_short_links:
                to_shorten[row.key] = row
        if to_shorten:
            _shorten_links(session, to_shorten, runtime.settings.web.public_base_url, now)
        if claimed.ids:
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(claimed.ids),
                    unindexed(OutboxMessage.status) == "queued",
                )
                .values(status="sending", last_attempt_at=now, attempts=OutboxMessage.attempts + 1),
                execution_options=NO_SYNC,
            )
    return claimed


def _due(
    session: Session, now: datetime, *, limit: int, channel: str | None, journey: str | None
) -> SelectOfScalar[OutboxMessage]:
    """The claim's candidates: up to ``limit`` queued rows due by ``now`` (of one channel, of
    one journey), in due order, read through ``ix_outbox_due``; locked ``SKIP LOCKED`` on
    PostgreSQL, so concurrent workers take disjoint sets."""
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.status) == "queued", col(OutboxMessage.due_at) <= now)
        .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    if journey:
        query = query.where(OutboxMessage.journey == journey)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


def _defer_for_cap(
    session: Session, row: OutboxMessage, frees: datetime, why: str, now: datetime
) -> None:
    """Over the frequency cap as of now with ``on_cap: defer``: the row waits until the cap
    frees (out of its quiet window), noted like the queue-time decision."""
    decisions = list(row.decisions or [])
    due = _quiet_until(decisions, frees) or frees
    note = {
        "rule": "frequency_cap",
        "action": "defer",
        "deferred_to": due.isoformat(),
        "at": now.isoformat(),
        "why": why,
    }
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id)
        .values(due_at=due, decisions=[*decisions, note]),
        execution_options=NO_SYNC,
    )


def _shorten_links(
    session: Session, rows: dict[str, OutboxMessage], base_url: str, now: datetime
) -> None:
    """Freeze the SMS bodies with tracked short links before their first send."""
    contents = {key: row.content for key, row in rows.items()}
    changed = shorten_sms_contents(session, contents, base_url=base_url, now=now)
    if changed:
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        session.connection().execute(
            update(table).where(table.c.id == bindparam("row_id")).values(content=bindparam("new")),
            [{"row_id": rows[key].id, "new": content} for key, content in changed.items()],
        )


def _withdraw(session: Session, reasons: dict[int, str]) -> None:
    """queued -> withdrawn with the reason, in one executemany UPDATE (guarded like
    :func:`journeykit.delivery.states.move`)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.status == "queued")
        .values(status="withdrawn", error=bindparam("reason")),
        [{"row_id": row_id, "reason": reason} for row_id, reason in reasons.items()],
    )


def claim_outbox(
    runtime: Runtime, *, limit: int, channel: str | None = None, journey: str | None = None
) -> list[int]:
    """The ids claimed (see :func:`claim`)."""
    return claim(runtime, limit=limit, channel=channel, journey=journey).ids


def _quiet_until(
    decisions: list[dict[str, Any]],
    now: datetime,
    seen: dict[str, datetime | None] | None = None,
) -> datetime | None:
    """The first allowed instant when ``now`` is inside the row's quiet window, else None
    (``seen``: answers for ``now`` by window, kept by the caller across a batch)."""
    window = quiet_window_note(decisions)
    if window is None:
        return None
    key = repr((window.get("zones"), window.get("windows")))
    if seen is not None and key in seen:
        return seen[key]
    allowed = allowed_in_zones(now, window)
    later = allowed if allowed > now else None
    if seen is not None:
        seen[key] = later
    return later

"""Deliver due outbox rows exactly once. Each row moves queued -> sending (committed before
the provider call) -> sent | failed, or back to queued only when the provider surely did
not take it (429, 5xx, refused). A row left in ``sending`` (a crash, or a timeout after the
request left) is reconciled with the provider before anything is sent again."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from journeykit.channels.provider import (
    EmailMessage,
    EmailSender,
    SendResult,
    SmsMessage,
    SmsSender,
)
from journeykit.db import session_scope
from journeykit.engine.runtime import Runtime
from journeykit.models import Consent, MessageEvent, OutboxMessage

log = logging.getLogger(__name__)
OPTED_OUT_CODES = {"21610"}
MAX_ATTEMPTS = 8
WITNESS_EVENTS = ("processed", "delivered", "deferred", "bounce", "open", "click")


@dataclass
class Senders:
    email: EmailSender
    sms: SmsSender
    concurrency: int = 8
    before_send: Callable[[str], None] | None = None  # rate limiter hook: called per channel


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    ambiguous: int = 0
    expired: int = 0
    reconciled: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, retry_after_s: float | None) -> timedelta:
    """Honour the provider's hint; else exponential with full jitter, capped at 10 minutes."""
    if retry_after_s is not None:
        return timedelta(seconds=max(1.0, retry_after_s))
    ceiling = min(600.0, 2.0 ** min(attempts, 10))
    return timedelta(seconds=1.0 + random.uniform(0, ceiling))


def claim_outbox(runtime: Runtime, *, limit: int, channel: str | None = None) -> list[int]:
    now = runtime.clock.now()
    with session_scope(runtime.engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.status) == "queued", col(OutboxMessage.expires_at) <= now)
            .values(status="expired", error="validity ran out before it could be sent")
        )
        query = (
            select(OutboxMessage.id)
            .where(col(OutboxMessage.status) == "queued", col(OutboxMessage.due_at) <= now)
            .order_by(col(OutboxMessage.due_at), col(OutboxMessage.id))
            .limit(limit)
        )
        if channel:
            query = query.where(OutboxMessage.channel == channel)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.exec(query).all())
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == "queued")
                .values(status="sending", last_attempt_at=now, attempts=OutboxMessage.attempts + 1)
            )
    return ids  # type: ignore[return-value]


def dispatch(runtime: Runtime, senders: Senders, ids: list[int]) -> DispatchReport:
    """Send claimed rows concurrently (bounded), then record each outcome."""
    report = DispatchReport(claimed=len(ids))
    with Session(runtime.engine) as session:
        rows = list(session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))).all())
    with ThreadPoolExecutor(max_workers=max(1, senders.concurrency)) as pool:
        results = list(pool.map(lambda row: _send_one(senders, row), rows))
    with session_scope(runtime.engine) as session:
        for row, result in zip(rows, results, strict=True):
            _record(session, runtime.clock.now(), row, result, report)
    return report


def _send_one(senders: Senders, row: OutboxMessage) -> SendResult:
    if senders.before_send:
        senders.before_send(row.channel)
    try:
        if row.channel == "email":
            c = row.content
            return senders.email.send(
                EmailMessage(
                    key=row.key,
                    to=row.to_address,
                    subject=c["subject"],
                    html=c["html"],
                    text=c["text"],
                    preheader=c.get("preheader", ""),
                    headers=c.get("headers", {}),
                    categories=(row.journey, row.category),
                )
            )
        return senders.sms.send(
            SmsMessage(
                key=row.key,
                to=row.to_address,
                body=row.content["body"],
                validity_period_s=_validity(row),
                status_callback=row.content.get("status_callback"),
            )
        )
    except Exception as exc:  # a sender bug must not lose the row
        return SendResult("ambiguous", error=f"sender raised {type(exc).__name__}: {exc}")


def _validity(row: OutboxMessage) -> int | None:
    if row.expires_at is None or row.last_attempt_at is None:
        return None
    seconds = int((row.expires_at - row.last_attempt_at).total_seconds())
    return max(1, min(36_000, seconds))


def _record(
    session: Session, now: datetime, row: OutboxMessage, result: SendResult, report: DispatchReport
) -> None:
    values: dict[str, object] = {"error_code": result.error_code, "error": result.error}
    if result.outcome == "sent":
        values |= {"status": "sent", "provider_id": result.provider_id, "sent_at": now}
        report.sent += 1
    elif result.outcome == "retry" and row.attempts < MAX_ATTEMPTS:
        values |= {"status": "queued", "due_at": now + backoff(row.attempts, result.retry_after_s)}
        report.retried += 1
    elif result.outcome == "ambiguous":
        report.ambiguous += 1  # stays 'sending' until reconciled
    else:
        values |= {"status": "failed"}
        report.failed += 1
        report.errors.append(f"{row.key}: {result.error_code} {result.error}")
        if result.error_code in OPTED_OUT_CODES:
            session.add(
                Consent(
                    customer_id=row.customer_id,
                    channel="sms",
                    granted=False,
                    source=f"twilio:{result.error_code}",
                    recorded_at=now,
                )
            )
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == "sending")
        .values(**values)
    )


def reconcile(runtime: Runtime, senders: Senders, *, stale_after: timedelta) -> int:
    """Settle rows stuck in ``sending`` longer than ``stale_after``: found at the provider →
    sent; otherwise back to queued (SMS: Twilio's message list is the witness; email:
    a SendGrid event carrying the row's key)."""
    now = runtime.clock.now()
    settled = 0
    with session_scope(runtime.engine) as session:
        stuck = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.status == "sending",
                col(OutboxMessage.last_attempt_at) <= now - stale_after,
            )
        ).all()
        for row in stuck:
            provider_id = _witness(session, senders, row)
            if provider_id:
                row.status, row.provider_id, row.sent_at = "sent", provider_id, row.last_attempt_at
            else:
                row.status, row.due_at = "queued", now
            row.decisions = [
                *row.decisions,
                {"rule": "reconcile", "found": bool(provider_id), "at": now.isoformat()},
            ]
            session.add(row)
            settled += 1
    return settled


def _witness(session: Session, senders: Senders, row: OutboxMessage) -> str | None:
    since = (row.last_attempt_at or row.created_at) - timedelta(minutes=5)
    if row.channel == "sms":
        return senders.sms.find_sent(row.to_address, since, row.content["body"])
    event = session.exec(
        select(MessageEvent).where(
            MessageEvent.outbox_id == row.id, col(MessageEvent.kind).in_(WITNESS_EVENTS)
        )
    ).first()
    if event is not None:
        return str(event.data.get("sg_message_id", "")).split(".")[0] or f"event:{event.id}"
    finder = getattr(senders.email, "find_sent", None)
    return finder(row.to_address, since, row.key) if finder else None

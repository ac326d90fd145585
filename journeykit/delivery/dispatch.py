"""Deliver due outbox rows exactly once.

The row (unique key per enrollment + node + channel + visit) was committed by the engine
before any provider call. :func:`journeykit.delivery.claim.claim` moves due rows
queued -> sending; :func:`dispatch` sends them concurrently (SMS one request each, email in
SendGrid batches where the content is shared), each request after ``Senders.before_send``
(the cross-worker rate limit), then :mod:`journeykit.delivery.record` writes each
outcome. Rows left in ``sending`` are settled by :mod:`journeykit.delivery.reconcile`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from journeykit.delivery.claim import Claimed, claim, claim_outbox
from journeykit.delivery.outgoing import Outgoing, load_outgoing
from journeykit.delivery.providers.base import (
    EmailMessage,
    Senders,
    SendResult,
    SmsBatchSender,
    SmsMessage,
)
from journeykit.delivery.reconcile import reconcile, reconcile_windows
from journeykit.delivery.record import Attempt, DispatchReport, record_attempt
from journeykit.delivery.retry import RetryPolicy, backoff
from journeykit.delivery.states import mark_sent_many
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import OutboxMessage

log = logging.getLogger(__name__)

__all__ = [
    "Claimed",
    "DispatchReport",
    "Senders",
    "backoff",
    "claim",
    "claim_outbox",
    "dispatch",
    "reconcile",
    "send_due",
]


def policy_for(runtime: Runtime) -> RetryPolicy:
    s = runtime.settings.sending
    return RetryPolicy(max_attempts=s.max_attempts, max_backoff_s=s.max_backoff_seconds)


def dispatch(runtime: Runtime, senders: Senders, ids: list[int]) -> DispatchReport:
    """Send claimed rows concurrently (bounded by ``senders.concurrency``), then record each
    outcome in one transaction."""
    report = DispatchReport(claimed=len(ids))
    if not ids:
        return report
    with Session(runtime.engine) as session:
        rows = load_outgoing(session, ids)
    sms = [r for r in rows if r.channel == "sms"]
    emails = [r for r in rows if r.channel == "email"]
    size = max(1, senders.email_batch_size)
    email_chunks = [emails[i : i + size] for i in range(0, len(emails), size)]
    # SMS: one job for the whole round when the sender keeps its own requests in flight
    # (Twilio's async path), else one job (thread) per SMS
    batched = isinstance(senders.sms, SmsBatchSender)
    jobs = ([sms] if sms and batched else [[row] for row in sms]) + email_chunks
    with ThreadPoolExecutor(max_workers=max(1, senders.concurrency)) as pool:
        outcomes = list(pool.map(lambda job: _send_job(senders, job), jobs))
    policy = policy_for(runtime)
    with session_scope(runtime.engine) as session:
        now = runtime.clock.now()
        accepted: list[tuple[int, str | None]] = []
        for job, (requests, attempts) in zip(jobs, outcomes, strict=True):
            report.requests += requests
            for row, attempt in zip(job, attempts, strict=True):
                if attempt.result.outcome == "sent":  # the common case, recorded in bulk
                    accepted.append((row.id, attempt.result.provider_id))
                else:
                    record_attempt(session, now, row, attempt, report, policy)
        mark_sent_many(session, now, accepted)
        report.sent += len(accepted)
    return report


def send_due(
    runtime: Runtime,
    senders: Senders,
    *,
    limit: int,
    channel: str | None = None,
    journey: str | None = None,
) -> DispatchReport:
    """Reconcile stale ambiguous rows, claim what is due (of one journey, or all), and send
    it: one dispatch round."""
    report = DispatchReport()
    windows = reconcile_windows(runtime.settings)
    if not _work_waiting(runtime, windows["sms"], channel=channel, journey=journey):
        return report  # an idle round: one read, no write lock taken
    report.reconciled = reconcile(
        runtime, senders, stale_after=windows["sms"], email_stale_after=windows["email"]
    )
    claimed = claim(runtime, limit=limit, channel=channel, journey=journey)
    report.add(dispatch(runtime, senders, claimed.ids))
    report.expired += claimed.expired
    report.deferred += claimed.deferred
    report.withdrawn += claimed.withdrawn
    if report.claimed or report.reconciled or report.expired or report.deferred or report.withdrawn:
        log.info(
            "outbox: %d claimed, %d sent, %d retried, %d failed, %d ambiguous, %d reconciled, "
            "%d expired, %d deferred (quiet hours), %d withdrawn (no longer true), %d requests",
            report.claimed, report.sent, report.retried, report.failed, report.ambiguous,
            report.reconciled, report.expired, report.deferred, report.withdrawn, report.requests,
        )  # fmt: skip
    return report


def _work_waiting(
    runtime: Runtime, stale_after: timedelta, *, channel: str | None, journey: str | None
) -> bool:
    """Whether a round has anything to do: a queued row due (what the claim reads, expired
    or not) or a row in ``sending`` older than ``stale_after`` (what reconcile reads). One
    read-only query: a dispatcher polling an empty or not-yet-due outbox neither takes the
    write lock (SQLite) nor builds a claim. The clock only moves forward, so what is due or
    stale now still is when the round's claim and reconcile look."""
    now = runtime.clock.now()
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    due = select(table.c.id).where(table.c.status == "queued", table.c.due_at <= now)
    if channel:
        due = due.where(table.c.channel == channel)
    if journey:
        due = due.where(table.c.journey == journey)
    stale = select(table.c.id).where(
        table.c.status == "sending", table.c.last_attempt_at <= now - stale_after
    )
    with runtime.engine.connect() as connection:
        found = connection.execute(select(due.limit(1).exists(), stale.limit(1).exists())).one()
    return bool(found[0] or found[1])


def _send_job(senders: Senders, rows: Sequence[Outgoing]) -> tuple[int, list[Attempt]]:
    """(provider requests made, one attempt per row). Never raises: a sender bug must not
    lose the rows (they stay ``sending`` and are reconciled)."""
    started = senders.wall_clock.now()
    try:
        if rows[0].channel == "sms":
            results = _send_sms(senders, rows)
            requests = len(rows)
        else:
            results, requests = _send_emails(senders, rows)
    except Exception as exc:
        failure = SendResult("ambiguous", error=f"sender raised {type(exc).__name__}: {exc}")
        results, requests = [failure] * len(rows), 0
    return requests, [Attempt(result, started) for result in results]


def _send_sms(senders: Senders, rows: Sequence[Outgoing]) -> list[SendResult]:
    """One request per SMS, each after ``before_send("sms")``."""
    messages = [_sms(senders, row) for row in rows]
    hook = senders.before_send
    if isinstance(senders.sms, SmsBatchSender):
        before = None if hook is None else lambda: hook("sms")
        return senders.sms.send_many(
            messages, before_request=before, concurrency=senders.concurrency
        )
    results = []
    for message in messages:
        if hook:
            hook("sms")
        results.append(senders.sms.send(message))
    return results


def _sms(senders: Senders, row: Outgoing) -> SmsMessage:
    return SmsMessage(
        key=row.key,
        to=row.to_address,
        body=row.content["body"],
        validity_period_s=_validity(row),
        status_callback=row.content.get("status_callback") or senders.status_callback,
    )


def _send_emails(senders: Senders, rows: Sequence[Outgoing]) -> tuple[list[SendResult], int]:
    """Rows of one chunk: SendGrid batches those with identical content (one rate-limit slot
    per request, however many personalizations)."""
    messages = [_email(row) for row in rows]
    requests = 0

    def before_request() -> None:
        nonlocal requests
        requests += 1
        if senders.before_send:
            senders.before_send("email")

    if len(messages) == 1:
        before_request()
        return [senders.email.send(messages[0])], requests
    return senders.email.send_many(messages, before_request=before_request), requests


def _email(row: Outgoing) -> EmailMessage:
    c = row.content
    return EmailMessage(
        key=row.key,
        to=row.to_address,
        subject=c["subject"],
        html=c["html"],
        text=c["text"],
        preheader=c.get("preheader", ""),
        headers=c.get("headers", {}),
        categories=(row.journey, row.category),
    )


def _validity(row: Outgoing) -> int | None:
    """Seconds of validity left (Twilio ``ValidityPeriod``, 1..36000)."""
    if row.expires_at is None or row.last_attempt_at is None:
        return None
    seconds = int((row.expires_at - row.last_attempt_at).total_seconds())
    return max(1, min(36_000, seconds))

"""Write down what the provider said about one send, moving the row along its life:

- ``sent``: status sent, the provider's id (Twilio SID / SendGrid ``X-Message-Id``) stored;
- ``retry`` with attempts left: back to queued, due after the backoff;
- ``ambiguous``: stays ``sending`` with a note carrying the attempt's wall-clock time, until
  :mod:`journeykit.delivery.reconcile` asks the provider whether it went out;
- anything else (permanent errors, retries exhausted): failed. Twilio 21610 also records the
  SMS opt-out in the consent ledger at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from journeykit.delivery.outgoing import OutboxRow
from journeykit.delivery.providers.base import SendResult
from journeykit.delivery.retry import RetryPolicy
from journeykit.delivery.states import mark_sent_many, move
from journeykit.foundation.models import OutboxMessage
from journeykit.messaging.optout import record_sms_consent

OPTED_OUT_CODES = frozenset({"21610"})


COUNTS = [
    "claimed",
    "sent",
    "retried",
    "failed",
    "ambiguous",
    "expired",
    "deferred",
    "withdrawn",
    "reconciled",
    "requests",
]


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    ambiguous: int = 0
    expired: int = 0
    deferred: int = 0  # pushed out of quiet hours at claim time
    withdrawn: int = 0  # no longer true at claim time (the send-time guard)
    reconciled: int = 0
    requests: int = 0  # provider HTTP requests made (a SendGrid batch is one)
    errors: list[str] = field(default_factory=list)

    def add(self, other: DispatchReport) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


@dataclass(frozen=True)
class Attempt:
    """One provider call: its result and when it started on the wall clock (reconcile asks
    the provider about messages since then; a virtual clock would ask about the wrong day)."""

    result: SendResult
    wall_started_at: datetime


def record_attempt(
    session: Session,
    now: datetime,
    row: OutboxRow,
    attempt: Attempt,
    report: DispatchReport,
    policy: RetryPolicy,
) -> None:
    result, row_id = attempt.result, int(row.id)  # type: ignore[arg-type]
    values: dict[str, object] = {"error_code": result.error_code, "error": result.error}
    if result.outcome == "sent":  # dispatch records these in bulk; the same write for one
        mark_sent_many(session, now, [(row_id, result.provider_id)])
        report.sent += 1
        return
    if result.outcome == "ambiguous":
        note = {
            "rule": "ambiguous",
            "attempt": row.attempts,
            "wall_at": attempt.wall_started_at.isoformat(),
            "error": result.error or "",
        }
        _update_sending(session, row, decisions=[*row.decisions, note], **values)
        report.ambiguous += 1
        return
    if policy.should_retry(result, row.attempts):
        due = now + policy.backoff(row.attempts, result.retry_after_s)
        move(session, row_id, "queued", due_at=due, **values)
        report.retried += 1
        return
    move(session, row_id, "failed", **values)
    report.failed += 1
    report.errors.append(f"{row.key}: {result.error_code} {result.error}")
    if row.channel == "sms" and result.error_code in OPTED_OUT_CODES:
        record_sms_consent(
            session,
            customer_id=row.customer_id,
            granted=False,
            now=now,
            source=f"twilio:{result.error_code}",
            detail={"outbox_key": row.key, "to": row.to_address},
        )


def _update_sending(session: Session, row: OutboxRow, **values: object) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == "sending")
        .values(**values)
    )

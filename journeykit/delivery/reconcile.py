"""Settle sends whose outcome is unknown (a timeout after the request left, or a worker that
died mid-send): ask the provider before anything is sent again.

- SMS: Twilio's message list to that number since the attempt (wall-clock time, a little
  earlier for clock skew) with exactly this body is the witness.
- Email: a SendGrid event (processed, delivered, ...) carrying the row's key in the
  personalization's ``custom_args`` (stored by the event webhook as a ``MessageEvent`` for the
  row). No event after ``email_reconcile_after_s``: SendGrid never took it. That window is
  longer than the SMS one because absence is only inferred: SendGrid batches its events
  (about every 30 s) and retries a webhook our app did not take for up to 24 hours, so
  while our web app is down the events are late, not lost.

Found -> sent (with the provider id). Surely absent -> queued again, due now. The provider
could not be asked (``ProviderLookupError``, down, timing out) -> stays ``sending``, asked
again on the next round: never a blind resend.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from journeykit.delivery.providers.base import ProviderLookupError, Senders
from journeykit.delivery.states import move
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import MessageEvent, OutboxMessage
from journeykit.foundation.settings import Settings
from journeykit.timing.clock import to_utc

log = logging.getLogger(__name__)
WITNESS_EVENTS = ("processed", "delivered", "deferred", "bounce", "dropped", "open", "click")
SKEW = timedelta(minutes=5)
UNREACHABLE = object()


def attempt_started(row: OutboxMessage) -> datetime:
    """The wall-clock start of the row's last attempt (noted when it came back ambiguous), else
    the claim time (a worker that died mid-send never wrote a note)."""
    for note in reversed(row.decisions):
        if note.get("rule") == "ambiguous" and note.get("attempt") == row.attempts:
            return to_utc(datetime.fromisoformat(note["wall_at"]))
    return to_utc(row.last_attempt_at or row.created_at)


def reconcile(
    runtime: Runtime,
    senders: Senders,
    *,
    stale_after: timedelta,
    email_stale_after: timedelta | None = None,
) -> int:
    """Settle rows in ``sending`` whose last claim is older than ``stale_after`` (emails:
    ``email_stale_after``, default the same); returns how many were settled (found or
    surely absent)."""
    now = runtime.clock.now()
    email_after = stale_after if email_stale_after is None else email_stale_after
    settled = 0
    with session_scope(runtime.engine) as session:
        stuck = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.status == "sending",
                col(OutboxMessage.last_attempt_at) <= now - stale_after,
            )
        ).all()
        for row in stuck:
            # an email's events may still be on their way: before its window is over, only
            # a witness settles it (found -> sent); absence proves nothing yet
            patient = row.channel == "email" and to_utc(row.last_attempt_at or now) > to_utc(
                now - email_after
            )
            settled += _settle(session, senders, row, now, absent_is_final=not patient)
    return settled


def _settle(
    session: Session,
    senders: Senders,
    row: OutboxMessage,
    now: datetime,
    *,
    absent_is_final: bool = True,
) -> int:
    """1 when the row was settled (found -> sent, absent -> queued), 0 when it stays."""
    found = _witness(session, senders, row)
    if not found and found is not UNREACHABLE and not absent_is_final:
        return 0
    note: dict[str, object] = {"rule": "reconcile", "at": now.isoformat(), "attempt": row.attempts}
    row_id = int(row.id)  # type: ignore[arg-type]
    if found is UNREACHABLE:
        note["found"] = "unknown: provider not reachable, asking again later"
        row.decisions = [*row.decisions, note]
        session.add(row)
        log.warning("reconcile %s: provider not reachable; will ask again", row.key)
        return 0
    note["found"] = bool(found)
    decisions = [*row.decisions, note]
    if found:
        values = {"provider_id": str(found), "sent_at": row.last_attempt_at}
        return int(move(session, row_id, "sent", decisions=decisions, **values))
    return int(move(session, row_id, "queued", due_at=now, decisions=decisions))


def _witness(session: Session, senders: Senders, row: OutboxMessage) -> object:
    """The provider id when the provider has the message, None when it surely has not,
    ``UNREACHABLE`` when it could not be asked."""
    since = attempt_started(row) - SKEW
    if row.channel == "sms":
        try:
            return senders.sms.find_sent(row.to_address, since, row.content["body"])
        except ProviderLookupError:
            return UNREACHABLE
    event = session.exec(
        select(MessageEvent).where(
            MessageEvent.outbox_id == row.id, col(MessageEvent.kind).in_(WITNESS_EVENTS)
        )
    ).first()
    if event is not None:
        return str(event.data.get("sg_message_id", "")).split(".")[0] or f"event:{event.id}"
    finder = getattr(senders.email, "find_sent", None)
    if finder is None:
        return None
    try:
        return finder(row.to_address, since, row.key)
    except ProviderLookupError:
        return UNREACHABLE


def reconcile_windows(settings: Settings) -> dict[str, timedelta]:
    """How long an ambiguous send waits before the provider is asked, per channel."""
    return {
        "sms": timedelta(seconds=settings.sending.reconcile_after_seconds),
        "email": timedelta(
            seconds=max(
                settings.sending.reconcile_after_seconds,
                settings.sending.email_reconcile_after_seconds,
            )
        ),
    }

"""What providers tell us after a send: a Twilio status callback or a SendGrid Event Webhook
event, applied once (``MessageEvent.provider_event_id``) to the outbox row it is about. A
status never moves backwards; bounces, spam reports, unsubscribes and Twilio 21610 append an
opt-out to the consent ledger; an email click is a customer action."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from journeykit.engine.ingest import record_action
from journeykit.foundation.models import Consent, Customer, MessageEvent, OutboxMessage
from journeykit.messaging.optout import record_sms_consent

# How far along a message is; a callback only ever moves a row to a higher rank.
RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "bounced": 4, "failed": 4}
TWILIO_STATUS = {
    "sent": "sent",
    "delivered": "delivered",
    "undelivered": "failed",
    "failed": "failed",
}
SENDGRID_STATUS = {"delivered": "delivered", "bounce": "bounced", "dropped": "failed"}
SENDGRID_OPT_OUT = {"bounce", "spamreport", "unsubscribe", "group_unsubscribe"}
OPTED_OUT_CODE = "21610"


@dataclass
class Applied:
    """What one provider event did. ``duplicate``: seen before, nothing done."""

    duplicate: bool
    outbox_id: int | None = None
    status: str | None = None
    opted_out: bool = False
    touched: list[int] = field(default_factory=list)


def _seen(session: Session, event_id: str) -> bool:
    query = select(MessageEvent.id).where(MessageEvent.provider_event_id == event_id)
    return session.exec(query).first() is not None


def _advance_status(row: OutboxMessage, status: str | None) -> bool:
    """Move ``row`` to ``status`` when that is forwards; rows outside the send path
    (suppressed, expired, simulated) are left alone."""
    if status is None or row.status not in RANK:
        return False
    if RANK[status] <= RANK[row.status]:
        return False
    row.status = status
    return True


def apply_twilio_status(
    session: Session, *, now: datetime, params: dict[str, str], key: str | None = None
) -> Applied:
    """Apply one Twilio status callback (form fields). The row is found by MessageSid, or by
    ``key`` (the outbox key the sender put in the StatusCallback URL: a callback can arrive
    before the sender has stored the MessageSid). The caller commits."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    event_id = f"twilio:{sid}:{status}"
    if _seen(session, event_id):
        return Applied(duplicate=True)
    row = session.exec(select(OutboxMessage).where(OutboxMessage.provider_id == sid)).first()
    if row is None and key:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
        if row is not None and row.channel == "sms" and row.provider_id in (None, sid):
            row.provider_id = sid
        else:
            row = None
    code = params.get("ErrorCode") or None
    result = Applied(duplicate=False, outbox_id=row.id if row else None)
    if row is not None:
        if _advance_status(row, TWILIO_STATUS.get(status)):
            result.status = row.status
            if row.status == "delivered" and row.sent_at is None:
                row.sent_at = now
        if code and status in ("failed", "undelivered"):
            row.error_code = code
            row.error = f"twilio {status} (error {code})"
        session.add(row)
        if code == OPTED_OUT_CODE:
            record_sms_consent(
                session,
                customer_id=row.customer_id,
                granted=False,
                now=now,
                source="twilio:21610",
                detail={"message_sid": sid},
            )
            result.opted_out = True
    session.add(
        MessageEvent(
            provider_event_id=event_id, outbox_id=result.outbox_id, kind=status, at=now, data=params
        )
    )
    session.flush()
    return result


def find_email_row(session: Session, event: dict[str, Any]) -> OutboxMessage | None:
    """The outbox row an event is about: by our key (custom_args travel as top-level keys),
    else by the X-Message-Id prefix of ``sg_message_id`` (only if it names one row)."""
    key = event.get("journeykit_key")
    if isinstance(key, str) and key:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).first()
        if row is not None:
            return row
    message_id = str(event.get("sg_message_id") or "").split(".")[0]
    if not message_id:
        return None
    rows = session.exec(
        select(OutboxMessage).where(OutboxMessage.provider_id == message_id).limit(2)
    ).all()
    return rows[0] if len(rows) == 1 else None


def apply_sendgrid_event(session: Session, *, now: datetime, event: dict[str, Any]) -> Applied:
    """Apply one SendGrid Event Webhook event (already signature-checked). The caller
    commits. Raises ``ValueError`` for an event without ``sg_event_id`` or ``event``."""
    event_id, kind = event.get("sg_event_id"), event.get("event")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        raise ValueError("every event needs a string sg_event_id and event")
    provider_event_id = f"sendgrid:{event_id}"
    if _seen(session, provider_event_id):
        return Applied(duplicate=True)
    row = find_email_row(session, event)
    result = Applied(duplicate=False, outbox_id=row.id if row else None)
    if row is not None:
        if _advance_status(row, SENDGRID_STATUS.get(kind)):
            result.status = row.status
        if kind in ("bounce", "dropped"):
            row.error_code = str(event.get("status") or kind)[:40]
            row.error = str(event.get("reason") or kind)[:2000]
        session.add(row)
    session.add(
        MessageEvent(
            provider_event_id=provider_event_id,
            outbox_id=result.outbox_id,
            kind=kind,
            at=now,
            data=event,
        )
    )
    session.flush()
    customer_id = row.customer_id if row else _customer_by_email(session, event.get("email"))
    if kind in SENDGRID_OPT_OUT and customer_id is not None:
        session.add(
            Consent(
                customer_id=customer_id,
                channel="email",
                purpose="marketing",
                granted=False,
                source=f"sendgrid:{kind}",
                recorded_at=now,
                detail={"sg_event_id": event_id, "reason": str(event.get("reason") or "")[:200]},
            )
        )
        result.opted_out = True
    if kind == "click" and customer_id is not None:
        ingested = record_action(
            session,
            now=now,
            customer_id=customer_id,
            name="click",
            key=provider_event_id,
            source="email_event",
            data={"url": str(event.get("url") or ""), "message_key": row.key if row else None},
        )
        result.touched = ingested.routed.touched
    return result


def _customer_by_email(session: Session, email: Any) -> int | None:
    if not isinstance(email, str) or not email:
        return None
    return session.exec(select(Customer.id).where(Customer.email == email)).first()

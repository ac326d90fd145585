"""Twilio webhooks: inbound SMS (``/webhooks/twilio/sms``) and delivery status callbacks
(``/webhooks/twilio/status``), each verified with ``X-Twilio-Signature`` against the public
URL. Inbound: carrier keywords update the consent ledger, HELP gets the help text, a
numbered reply is the choice it stands for in the customer's latest SMS; every MessageSid
is handled once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse

from journeykit.delivery.provider_events import apply_twilio_status
from journeykit.engine.ingest import record_action
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Customer, Enrollment, MessageEvent, OutboxMessage
from journeykit.messaging.optout import classify_keyword, record_sms_consent
from journeykit.web.signatures import public_url, twilio_valid
from journeykit.web.state import WebState, get_state, move_on

router = APIRouter(tags=["webhooks"])
TWIML: dict[str, object] = {"content": {"application/xml": {}}}
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "TwiML", **TWIML},
    403: {"description": "X-Twilio-Signature missing or wrong"},
}


def twiml(text: str | None = None) -> Response:
    reply = MessagingResponse()
    if text:
        reply.message(text)
    return Response(str(reply), media_type="application/xml")


async def verified_form(
    request: Request, state: WebState, signature: str | None
) -> dict[str, str] | None:
    form = await request.form(max_files=0, max_fields=100)
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    url = public_url(state.settings.web.public_base_url, request.url.path, request.url.query)
    token = state.settings.providers.twilio.auth_token.get_secret_value()
    return params if twilio_valid(token, url, params, signature or "") else None


@router.post("/webhooks/twilio/sms", response_class=Response, responses=RESPONSES)
async def inbound_sms(
    request: Request,
    x_twilio_signature: Annotated[str | None, Header()] = None,
    state: WebState = Depends(get_state),
) -> Response:
    """An SMS from a customer: a keyword (STOP/START/HELP...) or a numbered reply."""
    params = await verified_form(request, state, x_twilio_signature)
    if params is None:
        return PlainTextResponse("invalid signature", status_code=403)
    sid, sender = params.get("MessageSid", ""), params.get("From", "")
    body = params.get("Body", "")
    if not sid:
        return PlainTextResponse("MessageSid is required", status_code=400)
    return twiml(await run_in_threadpool(_inbound, state, params, sid, sender, body))


def _inbound(
    state: WebState, params: dict[str, str], sid: str, sender: str, body: str
) -> str | None:
    try:
        reply, touched = _handle_inbound(state, params, sid, sender, body)
    except IntegrityError:  # the same MessageSid, delivered twice at once: the other won
        return None
    move_on(state, touched)
    return reply


def _handle_inbound(
    state: WebState, params: dict[str, str], sid: str, sender: str, body: str
) -> tuple[str | None, list[int]]:
    reply: str | None = None
    touched: list[int] = []
    with session_scope(state.runtime.engine) as session:
        event_id = f"twilio-in:{sid}"
        if session.exec(
            select(MessageEvent.id).where(MessageEvent.provider_event_id == event_id)
        ).first():
            return None, []  # a retry of a message already handled
        now = state.now()
        session.add(MessageEvent(provider_event_id=event_id, kind="inbound", at=now, data=params))
        customer = session.exec(select(Customer).where(Customer.phone == sender)).first()
        keyword = classify_keyword(body)
        if keyword == "help":
            reply = state.settings.sending.sms_help_text
        elif keyword is not None and customer is not None:
            word = body.strip().strip(".!").upper()
            record_sms_consent(
                session,
                customer_id=customer.id,  # type: ignore[arg-type]
                granted=keyword == "opt_in",
                now=now,
                source=f"sms:{word}",
                detail={"message_sid": sid},
            )
        elif customer is not None:
            touched = _numbered_reply(session, customer, body.strip(), sid, now)
    return reply, touched


def _numbered_reply(
    session: Session, customer: Customer, body: str, sid: str, now: datetime
) -> list[int]:
    """Map "2" to the second choice of the customer's latest SMS whose enrollment still
    waits for it; anything else is ignored."""
    if not (body.isascii() and body.isdigit()) or len(body) > 2:
        return []
    rows = session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.customer_id == customer.id,
            OutboxMessage.channel == "sms",
            col(OutboxMessage.enrollment_id).is_not(None),
        )
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(20)
    ).all()
    for row in rows:
        action = (row.content.get("replies") or {}).get(body)
        enrollment = session.get(Enrollment, row.enrollment_id)
        if not action or enrollment is None or enrollment.status != "waiting":
            continue
        if f"action:{action}" not in enrollment.waiting_for:
            continue
        ingested = record_action(
            session,
            now=now,
            customer_id=customer.id,  # type: ignore[arg-type]
            name=action,
            key=f"sms:{sid}",
            enrollment_id=enrollment.id,
            source="sms",
            data={"reply": body, "outbox_key": row.key},
        )
        return ingested.routed.touched
    return []


@router.post("/webhooks/twilio/status", response_class=Response, responses=RESPONSES)
async def status_callback(
    request: Request,
    key: Annotated[str | None, Query(max_length=300, description="the outbox key")] = None,
    x_twilio_signature: Annotated[str | None, Header()] = None,
    state: WebState = Depends(get_state),
) -> Response:
    """A delivery status for an SMS we sent: the outbox row moves forwards, never back.
    Senders set ``StatusCallback`` to this URL with ``?key=<outbox key>`` (signed with it)."""
    params = await verified_form(request, state, x_twilio_signature)
    if params is None:
        return PlainTextResponse("invalid signature", status_code=403)
    if not (params.get("MessageSid") or params.get("SmsSid")):
        return PlainTextResponse("MessageSid is required", status_code=400)
    await run_in_threadpool(_status, state, params, key)
    return twiml()


def _status(state: WebState, params: dict[str, str], key: str | None) -> None:
    try:
        with session_scope(state.runtime.engine) as session:
            apply_twilio_status(session, now=state.now(), params=params, key=key)
    except IntegrityError:  # the same callback twice at once: the other one recorded it
        pass

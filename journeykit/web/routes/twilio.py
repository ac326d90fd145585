"""Twilio webhooks: inbound SMS (``/webhooks/twilio/sms``) and delivery status callbacks
(``/webhooks/twilio/status``), each verified with ``X-Twilio-Signature`` against the public
URL. Inbound: carrier keywords update the consent ledger, HELP gets the help text, a
numbered reply (NFKC: "２" is 2) is the choice it stands for in the customer's latest SMS
with choices; a late reply (offer closed, choice already made) or one we cannot read gets a
short answer in the customer's language saying so, never silence. Every MessageSid is
handled once."""

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
from journeykit.delivery.states import NEVER_SENT
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Customer, Enrollment, MessageEvent, OutboxMessage
from journeykit.messaging.optout import classify_keyword, normalise_reply, record_sms_consent
from journeykit.service.events import record_action
from journeykit.web.i18n import pick_locale, translator
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
            word = normalise_reply(body)
            record_sms_consent(
                session,
                customer_id=customer.id,  # type: ignore[arg-type]
                granted=keyword == "opt_in",
                now=now,
                source=f"sms:{word}",
                detail={"message_sid": sid},
            )
        elif customer is not None:
            reply, touched = _numbered_reply(session, customer, normalise_reply(body), sid, now)
        elif keyword is None:
            reply = translator("en")("sms.reply.no_question")
    return reply, touched


def _numbered_reply(
    session: Session, customer: Customer, body: str, sid: str, now: datetime
) -> tuple[str | None, list[int]]:
    """Map "2" to the second choice of the customer's latest SMS with choices, when its
    enrollment still waits for it: (no answer, enrollments touched). Otherwise the answer
    to send back, in the customer's language: the offer closed, the choice was already
    made, or the reply is not one of the documented numbers."""
    t = translator(pick_locale(customer.locale))
    rows = session.exec(  # the SMS the customer may be answering (not withdrawn, failed...)
        select(OutboxMessage)
        .where(
            OutboxMessage.customer_id == customer.id,
            OutboxMessage.channel == "sms",
            col(OutboxMessage.enrollment_id).is_not(None),
            col(OutboxMessage.status).not_in(NEVER_SENT),
        )
        .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
        .limit(20)
    ).all()
    offers = [row for row in rows if row.content.get("replies")]
    if not offers:
        return t("sms.reply.no_question"), []
    numbers = sorted({n for row in offers for n in row.content["replies"]}, key=_as_number)
    listed = _numbers_list(customer.locale, sorted(offers[0].content["replies"], key=_as_number))
    if body not in numbers:
        return t("sms.reply.unknown", numbers=listed), []
    late: str | None = None
    for row in offers:
        action = row.content["replies"].get(body)
        if not action:
            continue
        enrollment = session.get(Enrollment, row.enrollment_id)
        waiting = (
            enrollment is not None
            and enrollment.status == "waiting"
            and f"action:{action}" in enrollment.waiting_for
        )
        if not waiting:
            late = late or ("expired" if _offer_closed(row, enrollment, now) else "chosen")
            continue
        ingested = record_action(
            session,
            now=now,
            customer_id=customer.id,  # type: ignore[arg-type]
            name=action,
            key=f"sms:{sid}",
            enrollment_id=enrollment.id,  # type: ignore[union-attr]
            source="sms",
            data={"reply": body, "outbox_key": row.key},
        )
        return None, ingested.routed.touched
    return t(f"sms.reply.{late or 'chosen'}", number=body), []


def _as_number(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _numbers_list(locale: str, numbers: list[str]) -> str:
    separator = "、" if locale.startswith("ja") else ", "
    return separator.join(numbers)


def _offer_closed(row: OutboxMessage, enrollment: Enrollment | None, now: datetime) -> bool:
    """Whether the row's offer has run out (its deadline passed), as opposed to a choice
    already made (the enrollment moved on before the deadline)."""
    for note in row.decisions or []:
        if note.get("rule") == "offer_expires":
            at = datetime.fromisoformat(note["at"])
            if at.tzinfo is None:
                now = now.replace(tzinfo=None)
            return now >= at
    return enrollment is not None and enrollment.status == "waiting"


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

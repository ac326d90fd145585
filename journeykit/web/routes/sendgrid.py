"""``POST /webhooks/sendgrid/events``: the SendGrid Event Webhook. The ECDSA signature over
timestamp + raw body is checked with the configured public key (a malformed signature is a
403 like a wrong one), the timestamp must be fresh (replays of old batches are refused),
and each event is applied once by ``sg_event_id``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from journeykit.delivery.provider_events import apply_sendgrid_event
from journeykit.foundation.db import session_scope
from journeykit.web.signatures import load_sendgrid_key, sendgrid_valid, timestamp_fresh
from journeykit.web.state import WebState, get_state, move_on

router = APIRouter(tags=["webhooks"])
MAX_EVENTS = 5000


class EventsResult(BaseModel):
    applied: int
    duplicates: int


def _problem(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


@router.post(
    "/webhooks/sendgrid/events",
    response_model=EventsResult,
    responses={
        400: {"description": "body is not a JSON array of events"},
        403: {"description": "signature missing, malformed or wrong, or timestamp stale"},
    },
)
async def sendgrid_events(
    request: Request,
    x_twilio_email_event_webhook_signature: Annotated[str | None, Header()] = None,
    x_twilio_email_event_webhook_timestamp: Annotated[str | None, Header()] = None,
    state: WebState = Depends(get_state),
) -> JSONResponse:
    """Delivered / open / click / bounce / dropped / spamreport / unsubscribe events."""
    body = await request.body()
    signature = x_twilio_email_event_webhook_signature or ""
    timestamp = x_twilio_email_event_webhook_timestamp or ""
    key = load_sendgrid_key(state.settings.providers.sendgrid.webhook_public_key)
    if not sendgrid_valid(key, body, signature, timestamp):
        return _problem(403, "the event webhook signature is missing, malformed or wrong")
    if not timestamp_fresh(
        timestamp, state.now(), state.settings.providers.sendgrid.webhook_max_age_seconds
    ):
        return _problem(403, "the event webhook timestamp is too old (or in the future)")
    try:
        events = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _problem(400, "the body is not JSON")
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        return _problem(400, "the body must be a JSON array of event objects")
    if len(events) > MAX_EVENTS:
        return _problem(400, f"at most {MAX_EVENTS} events per request")
    try:
        applied, duplicates = await run_in_threadpool(_apply_and_move_on, state, events)
    except ValueError as exc:  # nothing of the batch is kept: SendGrid retries it whole
        return _problem(400, str(exc))
    return JSONResponse({"applied": applied, "duplicates": duplicates})


def _apply_and_move_on(state: WebState, events: list[dict[str, Any]]) -> tuple[int, int]:
    try:
        applied, duplicates, touched = _apply(state, events)
    except IntegrityError:  # a concurrent delivery of the same events won: go again,
        applied, duplicates, touched = _apply(state, events)  # seeing them as duplicates
    move_on(state, touched)
    return applied, duplicates


def _apply(state: WebState, events: list[dict[str, Any]]) -> tuple[int, int, list[int]]:
    applied = duplicates = 0
    touched: list[int] = []
    with session_scope(state.runtime.engine) as session:
        for event in events:
            result = apply_sendgrid_event(session, now=state.now(), event=event)
            duplicates += result.duplicate
            applied += not result.duplicate
            touched += result.touched
    return applied, duplicates, touched

"""SendGrid's v3 Mail Send API as the sandbox answers it, plus its Event Webhook output."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from journeykit.sandbox.sendgrid_rules import check_mail, error, to_rows
from journeykit.sandbox.shared import SandboxContext, get_context, new_message_id
from journeykit.sandbox.store import StoredMessage
from journeykit.sandbox.validation import FieldError, validate_sendgrid

router = APIRouter(tags=["sendgrid"])

AUTH_ERROR = {
    "errors": [
        {
            "message": "The provided authorization grant is invalid, expired, or revoked",
            "field": None,
            "help": None,
        }
    ]
}


def _errors(items: list[dict[str, Any]], status: int = 400, **headers: str) -> JSONResponse:
    return JSONResponse({"errors": items}, status_code=status, headers=headers or None)


def _spec_error(problem: FieldError) -> dict[str, Any]:
    if problem.kind == "required":
        message = f"The {problem.field} parameter is required."
    else:
        message = f"Invalid {problem.field or 'request'}: {problem.message}"
    return error(message, problem.field)


def events_for(rows: list[StoredMessage], kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Event Webhook objects of the given kinds for stored rows (custom args as top-level keys).

    Sandbox convention: addresses whose local part starts with ``bounce`` bounce instead of
    being delivered.
    """
    events: list[dict[str, Any]] = []
    now = int(time.time())
    for m in rows:
        for kind in kinds:
            bounced = kind == "delivered" and m.to.split("@")[0].startswith("bounce")
            event: dict[str, Any] = {
                **m.custom_args,
                "email": m.to,
                "timestamp": now,
                "event": "bounce" if bounced else kind,
                "sg_event_id": secrets.token_urlsafe(16),
                "sg_message_id": m.id,
                "smtp-id": f"<{m.request_id}@sandbox.journeykit>",
                "category": m.categories,
            }
            if bounced:
                event |= {"type": "bounce", "status": "5.1.1", "reason": "550 5.1.1 No such user"}
            elif kind == "delivered":
                event["response"] = "250 OK"
            events.append(event)
    return events


@router.post("/v3/mail/send")
async def mail_send(request: Request, ctx: SandboxContext = Depends(get_context)) -> Response:
    """Accept a mail send: validate, maybe fail on purpose, store each recipient, answer 202."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(key, ctx.sendgrid_api_key):
        return JSONResponse(AUTH_ERROR, status_code=401)
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client gave up before sending its body: nothing happened
        return Response(status_code=499)
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _errors([error("Bad Request", None)])
    if not isinstance(body, dict):
        return _errors([error("Bad Request", None)])
    headers = {"Authorization": request.headers.get("authorization", "")}
    problems = [_spec_error(p) for p in await run_in_threadpool(validate_sendgrid, headers, raw)]
    if problems:
        return _errors(problems)
    rule_errors = check_mail(body)
    if rule_errors:
        return _errors(rule_errors)

    fault = await ctx.before_send("sendgrid")
    if fault == "429":
        reset = int(time.time()) + ctx.faults.retry_after_s
        return _errors(
            [{"field": None, "message": "too many requests"}],
            429,
            **{"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"},
            **{"X-RateLimit-Reset": str(reset)},
        )
    if fault == "500":
        return _errors([error("Internal server error", None)], 500)
    if ((body.get("mail_settings") or {}).get("sandbox_mode") or {}).get("enable"):
        return Response(status_code=200)

    message_id = new_message_id()
    rows = to_rows(body, message_id, datetime.now(UTC), raw.decode("utf-8"))
    ctx.store.add(rows)
    if ctx.sendgrid_event_url:
        ctx.callbacks.sendgrid_events(ctx.sendgrid_event_url, events_for(rows, ("processed",)))
        ctx.callbacks.sendgrid_events(ctx.sendgrid_event_url, events_for(rows, ("delivered",)))
    if fault == "timeout":
        await ctx.hold_answer()
    return Response(status_code=202, headers={"X-Message-Id": message_id})

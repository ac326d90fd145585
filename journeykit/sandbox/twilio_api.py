"""The Twilio Messages API (2010-04-01) as the sandbox answers it."""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from journeykit.sandbox.shared import SandboxContext, get_context, new_sid
from journeykit.sandbox.store import StoredMessage
from journeykit.sandbox.twilio_rules import (
    UNDELIVERED_TO,
    TwilioError,
    check_message,
    count_segments,
)
from journeykit.sandbox.validation import parse_form, twilio_create_passes, validate_twilio

router = APIRouter(tags=["twilio"])
BASE = "/2010-04-01/Accounts/{account_sid}"


def _error(err: TwilioError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


def _authorized(header: str, ctx: SandboxContext, account_sid: str) -> bool:
    """Whether an ``Authorization`` header carries this sandbox's account SID and token, for
    this account's URL."""
    if secrets.compare_digest(header, ctx.twilio_authorization):  # what the SDK sends
        return account_sid == ctx.account_sid
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (
        secrets.compare_digest(user, ctx.account_sid)
        and secrets.compare_digest(password, ctx.auth_token)
        and account_sid == ctx.account_sid
    )


AUTH_ERROR = TwilioError(20003, "Authenticate", 401)


def _rfc2822(dt: datetime) -> str:
    """Twilio's date format (whole seconds, ``+0000``)."""
    return _rfc2822_second(math.floor(dt.timestamp()))


@lru_cache(maxsize=8)  # an SMS burst: thousands of answers within the same second
def _rfc2822_second(timestamp: int) -> str:
    return format_datetime(datetime.fromtimestamp(timestamp, UTC))


def resource(m: StoredMessage, account_sid: str, status: str) -> dict[str, Any]:
    """The Twilio message resource JSON for a stored SMS."""
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{m.id}"
    from_is_service = m.from_.startswith("MG")
    received = _rfc2822(m.received_at)
    return {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": m.body,
        "date_created": received,
        "date_sent": received,
        "date_updated": received,
        "direction": "outbound-api",
        "error_code": UNDELIVERED_TO.get(m.to) if status == "undelivered" else None,
        "error_message": None,
        "from": None if from_is_service else m.from_,
        "messaging_service_sid": m.from_ if from_is_service else None,
        "num_media": "0",
        "num_segments": str(m.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": m.id,
        "status": status,
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": m.to,
        "uri": f"{uri}.json",
    }


def _queue_callbacks(ctx: SandboxContext, url: str, m: StoredMessage) -> None:
    failed_code = UNDELIVERED_TO.get(m.to)
    for status in ("sent", "undelivered" if failed_code else "delivered"):
        params = {
            "AccountSid": ctx.account_sid,
            "ApiVersion": "2010-04-01",
            "From": m.from_,
            "MessageSid": m.id,
            "MessageStatus": status,
            "SmsSid": m.id,
            "SmsStatus": status,
            "To": m.to,
        }
        if status == "undelivered":
            params["ErrorCode"] = str(failed_code)
        ctx.callbacks.twilio_status(url, params)


@dataclass(frozen=True)
class Answer:
    """What the sandbox answers a create-message request: status, JSON body, extra headers."""

    status: int
    content: dict[str, Any]
    headers: dict[str, str] | None = None

    def response(self) -> JSONResponse:
        """As a Starlette response."""
        return JSONResponse(self.content, status_code=self.status, headers=self.headers)


def _answer(err: TwilioError, headers: dict[str, str] | None = None) -> Answer:
    return Answer(err.status, err.body(), headers)


@router.post(BASE + "/Messages.json", status_code=201)
async def create_message(
    account_sid: str, request: Request, ctx: SandboxContext = Depends(get_context)
) -> JSONResponse:
    """Send an SMS: validate, maybe fail on purpose, store, answer 201 with the resource."""
    try:
        raw = await request.body()
    except ClientDisconnect:  # the client gave up before sending its body: nothing happened
        return JSONResponse({}, status_code=499)
    authorization = request.headers.get("authorization", "")
    return (await answer_create(ctx, account_sid, authorization, raw)).response()


async def answer_create(
    ctx: SandboxContext, account_sid: str, authorization: str, raw: bytes
) -> Answer:
    """What :func:`create_message` answers a request with this ``Authorization`` header and
    body; also called directly by :class:`journeykit.sandbox.fast_path.SendFastPath` (the
    sandbox's hottest request, without FastAPI's routing and Starlette's request objects)."""
    if not _authorized(authorization, ctx, account_sid):
        return _answer(AUTH_ERROR)
    form = parse_form(raw)
    if twilio_create_passes(account_sid, form):  # the common case, in the event loop
        problems = []
    else:
        path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        headers = {"Authorization": authorization}
        problems = await run_in_threadpool(validate_twilio, path, headers, form, quick=False)
    for problem in problems:
        if problem.field == "To" and problem.kind == "required":
            return _answer(TwilioError(21604, "A 'To' phone number is required."))
        where = f" `{problem.field}`" if problem.field else ""
        return _answer(TwilioError(20001, f"Invalid parameter{where}: {problem.message}"))
    params = dict(form)
    media = [v for k, v in form if k == "MediaUrl"]
    rule = check_message(params, media)
    if rule is not None:
        return _answer(rule)

    fault = await ctx.before_send("twilio")
    if fault == "429":
        retry = {"Retry-After": str(ctx.faults.retry_after_s)}
        return _answer(TwilioError(20429, "Too Many Requests", 429), retry)
    if fault == "500":
        return _answer(TwilioError(20500, "Internal Server Error", 500))

    body = params.get("Body", "")
    sid = new_sid("SM")
    message = StoredMessage(
        id=sid,
        request_id=sid,
        provider="twilio",
        to=params["To"],
        from_=params.get("From") or params.get("MessagingServiceSid", ""),
        body=body,
        num_segments=count_segments(body),
        received_at=datetime.now(UTC),
        raw=raw.decode("utf-8"),
    )
    ctx.store.add([message])
    if params.get("StatusCallback"):
        _queue_callbacks(ctx, params["StatusCallback"], message)
    if fault == "timeout":
        await ctx.hold_answer()
    return Answer(201, resource(message, account_sid, "queued"))


def _parse_bound(value: str | None, *, upper: bool) -> datetime | None:
    """A DateSent bound: a date (whole day, inclusive) or an ISO datetime."""
    if not value:
        return None
    if len(value) == 10:
        day = date.fromisoformat(value)
        return datetime.combine(day, time.max if upper else time.min, tzinfo=UTC)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _status(m: StoredMessage) -> str:
    return "undelivered" if m.to in UNDELIVERED_TO else "delivered"


@router.get(BASE + "/Messages.json")
async def list_messages(
    account_sid: str, request: Request, ctx: SandboxContext = Depends(get_context)
) -> JSONResponse:
    """List sent SMS, newest first, filtered by To/From/DateSent and paged like Twilio."""
    if not _authorized(request.headers.get("authorization", ""), ctx, account_sid):
        return _error(AUTH_ERROR)
    q = request.query_params
    try:
        after = _parse_bound(q.get("DateSent>"), upper=False)
        before = _parse_bound(q.get("DateSent<"), upper=True)
        on_day = q.get("DateSent")
        page_size = max(1, min(1000, int(q.get("PageSize", "50"))))
        page = max(0, int(q.get("Page", "0")))
    except ValueError as exc:
        return _error(TwilioError(20001, f"Invalid parameter: {exc}"))
    found = [
        m
        for m in ctx.store.messages(provider="twilio", to=q.get("To"), newest_first=True)
        if (not q.get("From") or m.from_ == q.get("From"))
        and (after is None or m.received_at >= after)
        and (before is None or m.received_at <= before)
        and (not on_day or m.received_at.date().isoformat() == on_day[:10])
    ]
    chunk = found[page * page_size : (page + 1) * page_size]
    filters = [(k, v) for k, v in q.multi_items() if k not in {"Page", "PageSize", "PageToken"}]
    base = f"/2010-04-01/Accounts/{account_sid}/Messages.json"

    def page_uri(n: int) -> str:
        query = [*filters, ("PageSize", str(page_size)), ("Page", str(n))]
        if n:
            query.append(("PageToken", f"PA{n}"))
        return f"{base}?{urlencode(query)}"

    more = len(found) > (page + 1) * page_size
    return JSONResponse(
        {
            "messages": [resource(m, account_sid, _status(m)) for m in chunk],
            "end": page * page_size + max(len(chunk) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page else None,
            "start": page * page_size,
            "uri": page_uri(page),
        }
    )


@router.get(BASE + "/Messages/{sid}.json")
async def fetch_message(
    account_sid: str, sid: str, request: Request, ctx: SandboxContext = Depends(get_context)
) -> JSONResponse:
    """One SMS by SID, or Twilio's 20404."""
    if not _authorized(request.headers.get("authorization", ""), ctx, account_sid):
        return _error(AUTH_ERROR)
    m = ctx.store.get(sid)
    if m is None or m.provider != "twilio":
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"
        return _error(TwilioError(20404, f"The requested resource {uri} was not found", 404))
    return JSONResponse(resource(m, account_sid, _status(m)))

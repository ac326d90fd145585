"""``GET /l/{code}``: follow a short link from an SMS or email. Counts the click, records it
against the message (and as the customer's ``click`` action, once per link), redirects."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import CustomerAction, MessageEvent, OutboxMessage
from journeykit.messaging.shortlinks import record_click, resolve
from journeykit.service.events import record_action
from journeykit.web.i18n import pick_locale
from journeykit.web.pages import message
from journeykit.web.state import WebState, get_state, move_on

router = APIRouter(tags=["customer pages"])


@router.get(
    "/l/{code}",
    response_class=RedirectResponse,
    status_code=302,
    responses={302: {"description": "to the long URL"}, 404: {"content": {"text/html": {}}}},
)
def follow(code: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    try:
        url, touched = _click(state, code)
    except IntegrityError:  # two first clicks at once: the other recorded the action
        url, touched = _click(state, code)
    if url is None:
        locale = pick_locale(accept_language=request.headers.get("accept-language"))
        return message(
            state,
            request,
            locale=locale,
            title_key="notfound.title",
            body_key="notfound",
            status_code=404,
        )
    move_on(state, touched)
    return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


def _click(state: WebState, code: str) -> tuple[str | None, list[int]]:
    touched: list[int] = []
    with session_scope(state.runtime.engine) as session:
        link = resolve(session, code)
        if link is None:
            return None, []
        now = state.now()
        record_click(session, link, now)
        row = None
        if link.message_key:
            row = session.exec(
                select(OutboxMessage).where(OutboxMessage.key == link.message_key)
            ).first()
        session.add(
            MessageEvent(
                provider_event_id=f"shortlink:{link.code}:{uuid.uuid4().hex}",
                outbox_id=row.id if row else None,
                kind="click",
                at=now,
                data={"url": link.url, "code": link.code},
            )
        )
        seen = session.exec(
            select(CustomerAction.id).where(CustomerAction.key == f"shortlink:{link.code}")
        ).first()
        if row is not None and seen is None:
            ingested = record_action(
                session,
                now=now,
                customer_id=row.customer_id,
                name="click",
                key=f"shortlink:{link.code}",
                source="link",
                data={"url": link.url, "message_key": row.key},
            )
            touched = ingested.routed.touched
        return link.url, touched

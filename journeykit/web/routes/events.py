"""``POST /events``: the store tells Journeykit what happened (the engine's event catalog).
API-key auth; the body is validated field by field (422 naming the field). The event's
identity is the ``Idempotency-Key`` header: the same key gets the same answer and the event
is recorded once; without a key every request is a new event. 202 once the event is stored
in the inbox (503 when it cannot be: nothing was kept, retry)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from journeykit.language.event_types import EventIn
from journeykit.web.auth import UNAUTHORIZED, require_api_key
from journeykit.web.state import WebState, get_state
from journeykit.web.store_events import accept_event

router = APIRouter(tags=["store events"])


class Accepted(BaseModel):
    status: str = Field(
        description="accepted: stored in the inbox, applied in order per subject; "
        "duplicate: this key was stored before"
    )
    event_id: int = Field(description="the inbox id (acceptance order)")
    key: str = Field(description="the event's identity: api:<Idempotency-Key>, or a new one")
    subject: str = Field(description="what it is about, e.g. order:5001, sku:TEE-M")


class Problem(BaseModel):
    detail: Any


@router.post(
    "/events",
    status_code=202,
    response_model=Accepted,
    dependencies=[Depends(require_api_key)],
    responses={
        401: UNAUTHORIZED[401],
        409: {"model": Problem, "description": "Idempotency-Key reused with another body"},
        503: {"model": Problem, "description": "the event could not be stored: retry later"},
    },
)
async def post_event(
    event: Annotated[EventIn, Body(discriminator="type")],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="the event's identity: makes retries safe (none: a new event)",
        ),
    ] = None,
    state: WebState = Depends(get_state),
) -> JSONResponse:
    """Record one store event (order placed, delayed, shipped, delivered, inventory changed,
    cart updated, checkout completed, back-in-stock signup, ...) and move on the journeys
    it touches."""
    # async: validated on the event loop; storing is the one step run in a worker thread
    payload = event.model_dump(mode="json", exclude_unset=True)
    payload["type"] = event.type
    answer = await run_in_threadpool(
        accept_event, state, payload, scope="api", key=idempotency_key, source="api", validated=True
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)

"""``POST /events``: the store tells Journeykit what happened (the engine's event catalog).
API-key auth; the body is validated field by field (422 naming the field); an
``Idempotency-Key`` header makes retries safe: the same key gets the same answer and the
event is recorded once. 202 on accept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from journeykit.language.events import EventIn
from journeykit.web.auth import UNAUTHORIZED, require_api_key
from journeykit.web.state import WebState, get_state
from journeykit.web.store_events import accept_event

router = APIRouter(tags=["store events"])


class Accepted(BaseModel):
    status: str = Field(description="accepted | duplicate | queued (handed to Prefect)")
    event_id: int | None = None
    key: str | None = None
    enrolled: list[int] = Field(default_factory=list)
    woken: list[int] = Field(default_factory=list)
    exited: list[int] = Field(default_factory=list)


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
        503: {"model": Problem, "description": "Prefect delivery is on and Prefect is away"},
    },
)
def post_event(
    event: Annotated[EventIn, Body(discriminator="type")],
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=200, description="makes retries safe"),
    ] = None,
    state: WebState = Depends(get_state),
) -> JSONResponse:
    """Record one store event (order placed, delayed, shipped, delivered, inventory changed,
    cart updated, checkout completed, back-in-stock signup, ...) and move on the journeys
    it touches."""
    payload = event.model_dump(mode="json", exclude_unset=True)
    payload["type"] = event.type
    answer = accept_event(state, payload, scope="api", key=idempotency_key, source="api")
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)

"""``POST /events``: the store tells Journeykit what happened (the engine's event catalog).
API-key auth; the body is validated field by field (422 naming the field). The event's
identity is the ``Idempotency-Key`` header: the same key gets the same answer and the event
is recorded once; without a key every request is a new event. 202 once the event is stored
in the inbox (503 when it cannot be: nothing was kept, retry).

The route is the contract (OpenAPI, every refusal). :class:`EventsFastPath` serves the same
request without FastAPI's per-request machinery (routing, dependency solving: about half
the CPU of an accepted event) when it is plainly acceptable: the right API key, a JSON body
that validates, a short key. Anything else goes on to the route, which answers it as
always (401, 422, ...), so both give the same answers; the same functions build the payload
and answer it. The fast path stores through the worker's group commit
(:mod:`journeykit.web.group_commit`: the events that arrive together, one transaction), the
route one event at a time."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Body, Depends, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from journeykit.language.event_types import EventIn
from journeykit.service.event_batches import BatchWriter
from journeykit.web.auth import UNAUTHORIZED, key_matches, require_api_key
from journeykit.web.group_commit import GroupCommit
from journeykit.web.limits import deeper_than
from journeykit.web.request_body import read_body, replaying
from journeykit.web.security_headers import EVERY_RESPONSE
from journeykit.web.state import WebState, get_state
from journeykit.web.store_events import Answer, accept_event

router = APIRouter(tags=["store events"])
MAX_KEY_LENGTH = 200


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
            max_length=MAX_KEY_LENGTH,
            description="the event's identity: makes retries safe (none: a new event)",
        ),
    ] = None,
    state: WebState = Depends(get_state),
) -> JSONResponse:
    """Record one store event (order placed, delayed, shipped, delivered, inventory changed,
    cart updated, checkout completed, back-in-stock signup, ...) and move on the journeys
    it touches."""
    # async: validated on the event loop; storing is the one step run in a worker thread
    return respond(await run_in_threadpool(store, state, event, idempotency_key))


_EVENT: TypeAdapter[EventIn] = TypeAdapter(Annotated[EventIn, Field(discriminator="type")])


def store(state: WebState, event: EventIn, idempotency_key: str | None) -> Answer:
    """Store a validated event under the sender's key, on its own (the route)."""
    return accept_event(
        state, payload_of(event), scope="api", key=idempotency_key, source="api", validated=True
    )


def payload_of(event: EventIn) -> dict[str, Any]:
    """The payload stored for a validated event (both ways in)."""
    payload = event.model_dump(mode="json", exclude_unset=True)
    payload["type"] = event.type
    return payload


def respond(answer: Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)


class EventsFastPath:
    """``POST /events`` that is plainly acceptable, served without FastAPI's routing and
    dependency solving and without the other middlewares' layers; everything else (and any
    other request) goes on untouched, with its body, to the app. Installed outermost, it
    holds a request to the same limits itself: a ``Content-Length`` within
    ``web.max_body_bytes`` and JSON nested no deeper than ``web.max_json_depth`` (else the
    body limit answers), and its answers carry the headers every response carries. The
    busy retry has nothing to retry here: a store that fails is answered 503."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.batches: BatchWriter | None = None
        # the group commit of each event loop (a server has one; a test client may run
        # each request on a loop of its own): a request is answered on its own loop
        self.groups: WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = WeakKeyDictionary()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/events":
            await self.app(scope, receive, send)
            return
        state: WebState = scope["app"].state.web
        headers = _headers(scope)
        if (
            headers is None
            or not _authorized(state, headers)
            or _bad_key(headers.get("idempotency-key"))
            or not _within(headers.get("content-length", ""), self.max_bytes)
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            if len(body) > self.max_bytes or deeper_than(body, self.max_depth):
                raise ValueError("the body limit answers")
            event = _EVENT.validate_json(body)
        except (ValueError, ValidationError):  # the body limit or the route says what is wrong
            await self.app(scope, replaying(body, receive), send)
            return
        key = headers.get("idempotency-key")
        group = self._group(state)
        answer = await group.accept(payload_of(event), scope="api", key=key, source="api")
        response = respond(answer)
        response.headers.update(EVERY_RESPONSE)
        await response(scope, receive, send)

    def _group(self, state: WebState) -> GroupCommit:
        loop = asyncio.get_running_loop()
        group = self.groups.get(loop)
        if group is None:
            engine = state.runtime.engine
            if self.batches is None and engine.dialect.name == "postgresql":
                self.batches = BatchWriter(engine)
            group = self.groups[loop] = GroupCommit(state, self.batches)
        return group


def _within(length: str, max_bytes: int) -> bool:
    return length.isascii() and length.isdigit() and int(length) <= max_bytes


_NEEDED = ("content-type", "content-length", "x-api-key", "authorization", "idempotency-key")


def _headers(scope: Scope) -> dict[str, str] | None:
    """The headers that matter, once each and JSON (else None: the route decides)."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        if name in _NEEDED:
            if name in found:
                return None
            found[name] = raw_value.decode("latin-1")
    if found.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return None
    return found


def _authorized(state: WebState, headers: dict[str, str]) -> bool:
    given = headers.get("x-api-key")
    if not given:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        given = credentials if scheme.lower() == "bearer" else None
    return key_matches(state, given)


def _bad_key(key: str | None) -> bool:
    return key is not None and (not key or len(key) > MAX_KEY_LENGTH)

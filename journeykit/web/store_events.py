"""Accepting one store event: stored durably in the event inbox before the 202, or 503.

Identity is the sender's: the ``Idempotency-Key`` header (or the source's own event id, e.g.
Shopify's ``X-Shopify-Webhook-Id``), never the body. A request with a key keeps an
``ApiReceipt``: a retry with the same key gets the same answer, a different body under the
same key is a conflict (409). A request without a key is a new event every time (a store
that sends the same restock body twice sends two restocks).

After the commit the event is applied through :mod:`journeykit.service.events` (in this
request, or by the Prefect ``event`` flow with ``JOURNEYKIT_WEB__EVENT_DELIVERY=prefect``;
the sweep applies whatever is still pending either way), in acceptance order per subject."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import ApiReceipt
from journeykit.service.event_batches import BatchWriter, Incoming
from journeykit.service.event_inbox import apply_pending
from journeykit.service.events import Accepted, accept, accept_with_receipt
from journeykit.web.state import WebState, move_on

log = logging.getLogger(__name__)


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def body_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def find_receipt(session: Session, key: str) -> ApiReceipt | None:
    return session.exec(select(ApiReceipt).where(ApiReceipt.key == key)).first()


_INSERT_RECEIPT = insert(ApiReceipt.__table__)  # type: ignore[attr-defined]


def keep_receipt(
    session: Session, key: str, request_hash: str, body: dict[str, Any], now: datetime
) -> None:
    """Remember the 202 given under ``key`` (in the request's transaction): a retry with the
    same key and body gets the same answer. One Core ``INSERT``; a receipt already there
    raises ``IntegrityError`` (the caller replays it)."""
    session.connection().execute(
        _INSERT_RECEIPT,
        {
            "key": key,
            "request_hash": request_hash,
            "status_code": 202,
            "response": body,
            "created_at": now,
        },
    )


def replay(receipt: ApiReceipt, request_hash: str) -> Answer:
    if receipt.request_hash != request_hash:
        return Answer(
            409,
            {"detail": "this Idempotency-Key was used with a different body: use a new key"},
        )
    return Answer(receipt.status_code, dict(receipt.response), replayed=True)


def event_key(scope: str, key: str | None) -> str:
    """``scope:key``; without a key, a fresh one: every keyless request is a new event."""
    return f"{scope}:{key}" if key else f"{scope}:new:{uuid.uuid4()}"


STORE_FAILED = "could not store the event, retry later"


def accept_event(
    state: WebState,
    payload: dict[str, Any],
    *,
    scope: str,
    key: str | None,
    source: str,
    validated: bool = False,
) -> Answer:
    """Store ``payload`` in the inbox under ``scope:key``, answer 202 once it is committed
    (503 when it cannot be), then have it applied. ``validated``: the door parsed it as its
    event model already (``POST /events``), so it is not parsed a second time."""
    request_hash = body_hash(payload) if key is not None else ""
    stored_key = event_key(scope, key)
    answer, subject = store_one(
        state, payload, stored_key, key is not None, request_hash, source, validated
    )
    if subject is not None:
        hand_on(state, payload, stored_key, subject)
    return answer


def store_one(
    state: WebState,
    payload: dict[str, Any],
    stored_key: str,
    keep: bool,
    request_hash: str,
    source: str,
    validated: bool,
) -> tuple[Answer, str | None]:
    """The answer for one event stored on its own, and the subject to apply when it was
    stored now (None: nothing new to apply)."""
    try:
        return _store(state, payload, stored_key, keep, request_hash, source, validated)
    except IntegrityError:  # a concurrent retry with the same key won the race
        with Session(state.runtime.engine) as session:
            receipt = find_receipt(session, stored_key)
        if receipt is None:
            return Answer(503, {"detail": STORE_FAILED}), None
        return replay(receipt, request_hash), None
    except SQLAlchemyError as exc:  # the database is away or locked: nothing was promised
        return _not_stored(exc), None


def store_together(
    state: WebState, events: list[Incoming], writer: BatchWriter | None
) -> list[tuple[Answer, str | None]]:
    """The answers for events stored together (PostgreSQL, ``writer``: one statement, one
    transaction, :func:`journeykit.service.event_batches.accept_together`), each with the
    subject to apply when it was stored now. An event that was not stored new (its key
    seen before, or twice among ``events``) then takes the general way, :func:`store_one`,
    after that commit: it is answered exactly as if it had come alone (replayed, 409,
    ``duplicate``). Without a writer (SQLite: one writer) each is stored on its own, one
    after the other. The database away: 503 for all."""
    stored: list[Accepted | None] = [None] * len(events)
    if writer is not None:
        try:
            stored = writer.accept(events)
        except SQLAlchemyError as exc:  # nothing was written, nothing was promised
            return [(_not_stored(exc), None)] * len(events)
    answers: list[tuple[Answer, str | None]] = []
    for event, new in zip(events, stored, strict=True):
        if new is not None:
            answers.append((Answer(202, _body(new, event.key)), new.subject))
            continue
        keep = event.request_hash is not None
        answers.append(
            store_one(
                state, event.payload, event.key, keep, event.request_hash or "", event.source, True
            )
        )
    return answers


def _not_stored(exc: SQLAlchemyError) -> Answer:
    log.error("storing an event failed: %s", exc)
    return Answer(503, {"detail": f"{STORE_FAILED}: {type(exc).__name__}"})


def _store(
    state: WebState,
    payload: dict[str, Any],
    stored_key: str,
    keep: bool,
    request_hash: str,
    source: str,
    validated: bool,
) -> tuple[Answer, str | None]:
    """One transaction: the inbox row (``ON CONFLICT DO NOTHING``) and, with a key, its
    receipt. A key seen before is answered from its receipt (the same answer, or 409 for
    another body); a receipt whose inbox row was pruned makes the receipt insert fail
    (``IntegrityError``: rolled back, replayed by the caller)."""
    now = state.now()
    engine = state.runtime.engine
    if keep and engine.dialect.name == "postgresql":  # a new key: one statement
        new = accept_with_receipt(
            engine,
            payload=payload,
            key=stored_key,
            source=source,
            now=now,
            request_hash=request_hash,
            validated=validated,
        )
        if new is not None:
            return Answer(202, _body(new, stored_key)), new.subject
    with session_scope(engine) as session:
        accepted = accept(
            session, payload=payload, key=stored_key, source=source, now=now, validated=validated
        )
        if keep and accepted.duplicate:
            receipt = find_receipt(session, stored_key)
            if receipt is not None:
                return replay(receipt, request_hash), None
        body = _body(accepted, stored_key)
        if keep:
            keep_receipt(session, stored_key, request_hash, body, now)
    return Answer(202, body), accepted.subject


def _body(accepted: Accepted, stored_key: str) -> dict[str, Any]:
    return {
        # duplicate: the inbox has this key (its receipt was pruned): stored once
        "status": "duplicate" if accepted.duplicate else "accepted",
        "event_id": accepted.inbox_id,
        "key": stored_key,
        "subject": accepted.subject,
    }


def hand_on(state: WebState, payload: dict[str, Any], stored_key: str, subject: str) -> None:
    """Apply the stored event: hand it to Prefect, or apply its subject's pending events in
    this request and advance what they touched. A failure is logged: the event is stored,
    and the next apply (event flow or sweep) takes it. With ``worker`` delivery the stored
    event is all: a long-lived worker process applies the inbox."""
    if state.settings.web.event_delivery == "worker":
        return
    if state.emit is not None and state.settings.web.event_delivery == "prefect":
        try:
            state.emit(payload, stored_key)
        except Exception as exc:
            log.warning("Prefect did not take event %s (the sweep will): %s", stored_key, exc)
        return
    try:
        applied = apply_pending(state.runtime, subjects=[subject])
    except Exception as exc:
        log.error("applying %s failed (the sweep will retry): %s", stored_key, exc)
        return
    move_on(state, applied.touched)

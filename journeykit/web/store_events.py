"""Accepting one store event, exactly once: an ``ApiReceipt`` keeps the answer given for an
idempotency key (a retry gets the same answer, a different body under the same key is a
conflict), the event is recorded through ``ingest_event`` in the same transaction, and the
enrollments it touched are advanced once it has committed (or it is handed to Prefect)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from journeykit.engine.ingest import default_key, ingest_event
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import ApiReceipt
from journeykit.store.sync import UnknownSubject
from journeykit.web.state import WebState, move_on


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def body_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def find_receipt(session: Session, key: str) -> ApiReceipt | None:
    return session.exec(select(ApiReceipt).where(ApiReceipt.key == key)).first()


def keep_receipt(
    session: Session, key: str, request_hash: str, body: dict[str, Any], now: datetime
) -> None:
    """Remember the 202 given under ``key`` (in the request's transaction): a retry with the
    same key and body gets the same answer."""
    session.add(
        ApiReceipt(
            key=key, request_hash=request_hash, status_code=202, response=body, created_at=now
        )
    )


def replay(receipt: ApiReceipt, request_hash: str) -> Answer:
    if receipt.request_hash != request_hash:
        return Answer(
            409,
            {"detail": "this Idempotency-Key was used with a different body: use a new key"},
        )
    return Answer(receipt.status_code, dict(receipt.response), replayed=True)


def accept_event(
    state: WebState, payload: dict[str, Any], *, scope: str, key: str | None, source: str
) -> Answer:
    """Record ``payload`` (already validated) once under ``scope:key`` and answer 202."""
    request_hash = body_hash(payload)
    receipt_key = f"{scope}:{key or request_hash}"
    event_key = f"{scope}:{key}" if key else default_key(payload)
    try:
        answer, touched = _record(state, payload, receipt_key, event_key, request_hash, source)
    except IntegrityError:  # a concurrent retry with the same key won the race
        with Session(state.runtime.engine) as session:
            receipt = find_receipt(session, receipt_key)
        if receipt is None:
            raise
        return replay(receipt, request_hash)
    move_on(state, touched)
    return answer


def _record(
    state: WebState,
    payload: dict[str, Any],
    receipt_key: str,
    event_key: str,
    request_hash: str,
    source: str,
) -> tuple[Answer, list[int]]:
    now = state.now()
    touched: list[int] = []
    with session_scope(state.runtime.engine) as session:
        receipt = find_receipt(session, receipt_key)
        if receipt is not None:
            return replay(receipt, request_hash), []
        if state.emit is not None and state.settings.web.event_delivery == "prefect":
            try:
                state.emit(payload, event_key)
            except Exception as exc:  # any emitter failure: answer 503 and keep nothing,
                session.rollback()  # so the store retries the same request later
                detail = f"could not hand the event to Prefect, retry later: {exc}"[:500]
                return Answer(503, {"detail": detail}), []
            body: dict[str, Any] = {"status": "queued", "key": event_key}
        else:
            try:
                ingested = ingest_event(
                    session,
                    book=state.runtime.book,
                    now=now,
                    payload=payload,
                    key=event_key,
                    source=source,
                    registry=state.runtime.registry,
                )
            except UnknownSubject as exc:
                session.rollback()  # nothing half-way
                return Answer(422, unknown_subject(payload, str(exc))), []
            routed = ingested.routed
            touched = routed.touched
            body = {
                "status": "duplicate" if ingested.duplicate else "accepted",
                "event_id": ingested.event_id,
                "enrolled": routed.enrolled,
                "woken": routed.woken,
                "exited": routed.exited,
            }
        keep_receipt(session, receipt_key, request_hash, body, now)
    return Answer(202, body), touched


def unknown_subject(payload: dict[str, Any], problem: str) -> dict[str, Any]:
    """A 422 in FastAPI's validation-error shape, naming the field that names the unknown
    order / sku / cart / ticket."""
    field = next(
        (name for name in ("order_number", "sku", "cart_token", "ticket_id") if name in payload),
        "order",
    )
    return {"detail": [{"loc": ["body", field], "msg": problem, "type": "unknown_subject"}]}

"""Store events, the one way every door takes (web, Shopify webhooks, ``journeys emit``,
the Prefect event flow, the simulator): **accept** an event (validate, store it in the inbox
by idempotency key, before the door answers), then have it applied in order by
:mod:`journeykit.service.event_inbox`; customer actions are recorded at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, TextualSelect, bindparam, text
from sqlmodel import Session, col, select

# Customer actions (a link, an SMS reply, a SendGrid click) are about one enrollment and apply
# at once, they do not queue in the inbox: the doors record them with the engine's own
# function, reached through this module like every other door call.
from journeykit.engine.ingest import ingest_event, record_action
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import ApiReceipt, InboxEvent
from journeykit.language.event_types import parse_event
from journeykit.service.event_inbox import HOLDING, Applied, apply_pending
from journeykit.timing.clock import plain_utc

__all__ = [
    "accept",
    "accept_and_apply",
    "accept_with_receipt",
    "record_action",
    "record_event",
    "subject_of",
]


def subject_of(payload: dict[str, Any]) -> str:
    """What an event is about, as ops search for it: ``order:5001``, ``sku:TEE-M``, ..."""
    for name, kind in (("order_number", "order"), ("sku", "sku"), ("cart_token", "cart")):
        if payload.get(name):
            return f"{kind}:{payload[name]}"
    product = payload.get("product")
    if isinstance(product, dict) and product.get("sku"):
        return f"sku:{product['sku']}"
    for name, kind in (("order", "order"), ("cart", "cart"), ("customer", "customer")):
        value = payload.get(name)
        if isinstance(value, dict):
            key = value.get("number") or value.get("token") or value.get("id")
            if key:
                return f"{kind}:{key}"
    if payload.get("ticket_id") is not None:
        return f"ticket:{payload['ticket_id']}"
    return str(payload.get("type", "event"))


@dataclass
class Accepted:
    """One accepted event: its inbox row, and whether that key was seen before."""

    inbox_id: int
    subject: str
    duplicate: bool


def accept(
    session: Session,
    *,
    payload: dict[str, Any],
    key: str,
    source: str,
    now: datetime,
    validated: bool = False,
) -> Accepted:
    """Validate ``payload`` (raises ``pydantic.ValidationError`` naming the field; a door
    that validated it already says ``validated=True``) and store it in the inbox under
    ``key`` unless that key is there already. The caller commits: only then may it answer
    202. One statement for a new key (``INSERT ... ON CONFLICT (key) DO NOTHING
    RETURNING id``); a second one reads the stored row of a key seen before."""
    row = _inbox_row(payload, key, source, now, validated)
    subject = row["subject"]
    inserted = session.connection().execute(_INSERT_UNLESS_STORED, row).scalar_one_or_none()
    if inserted is not None:
        return Accepted(int(inserted), subject, duplicate=False)
    stored_id, stored_subject = session.execute(
        select(InboxEvent.id, InboxEvent.subject).where(InboxEvent.key == key)
    ).one()
    return Accepted(int(stored_id), stored_subject, duplicate=True)


def accept_with_receipt(
    engine: Engine,
    *,
    payload: dict[str, Any],
    key: str,
    source: str,
    now: datetime,
    request_hash: str,
    validated: bool = False,
) -> Accepted | None:
    """PostgreSQL's door for a new key, in one statement and its own transaction: the inbox
    row and the idempotency receipt of its 202 (``{"status": "accepted", "event_id", "key",
    "subject"}``, as :func:`accept`'s caller would keep it), each ``ON CONFLICT DO
    NOTHING``. None when the key has a row or a receipt already: nothing is written, and
    the caller takes the general way (replay the receipt, or answer ``duplicate``)."""
    row = _inbox_row(payload, key, source, now, validated)
    try:
        with engine.begin() as connection:
            stored = connection.execute(
                _ACCEPT_WITH_RECEIPT, {**row, "request_hash": request_hash}
            ).first()
            if stored is not None and stored.receipt_id is None:
                raise _ReceiptKeptBefore  # rolls the inbox row back
    except _ReceiptKeptBefore:
        return None
    if stored is None:
        return None
    return Accepted(int(stored.id), row["subject"], duplicate=False)


class _ReceiptKeptBefore(Exception):
    """A receipt under this key, its inbox row pruned: the receipt answers."""


def _inbox_row(
    payload: dict[str, Any], key: str, source: str, now: datetime, validated: bool
) -> dict[str, Any]:
    if not validated:
        parse_event(payload)
    now = plain_utc(now)
    return {
        "key": key,
        "subject": subject_of(payload),
        "type": str(payload["type"]),
        "body": to_jsonable_python(payload),  # datetimes as ISO text; parsed again on apply
        "source": source,
        "status": "pending",
        "attempts": 0,
        "next_try_at": now,
        "accepted_at": now,
    }


def _insert_unless_stored() -> TextualSelect:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id`` (PostgreSQL, SQLite): the id
    of a new row, none for a key stored before (a concurrent insert of the same key waits
    for the other transaction, then finds it). Text with the columns' types, because
    SQLAlchemy does not cache a compiled ``ON CONFLICT`` insert: it would be compiled again
    for every event."""
    table = InboxEvent.__table__  # type: ignore[attr-defined]
    columns = ", ".join(f'"{name}"' for name in _INBOX_ROW)
    values = ", ".join(f":{name}" for name in _INBOX_ROW)
    sql = (
        f"INSERT INTO {table.name} ({columns}) VALUES ({values})"
        ' ON CONFLICT ("key") DO NOTHING RETURNING id'
    )
    binds = [bindparam(name, type_=table.c[name].type) for name in _INBOX_ROW]
    return text(sql).bindparams(*binds).columns(table.c.id)


_INBOX_ROW = (
    "key", "subject", "type", "body", "source", "status", "attempts", "next_try_at", "accepted_at",
)  # fmt: skip
_INSERT_UNLESS_STORED = _insert_unless_stored()


def _accept_with_receipt() -> TextualSelect:
    """The inbox row and, only if it was new, the receipt whose response is built from its
    id; the statement returns (id, receipt_id), no row for a key stored before."""
    inbox, receipts = InboxEvent.__table__, ApiReceipt.__table__  # type: ignore[attr-defined]
    columns = ", ".join(f'"{name}"' for name in _INBOX_ROW)
    values = ", ".join(f":{name}" for name in _INBOX_ROW)
    sql = f"""
        WITH stored AS (
            INSERT INTO {inbox.name} ({columns}) VALUES ({values})
            ON CONFLICT ("key") DO NOTHING RETURNING id
        ), kept AS (
            INSERT INTO {receipts.name} ("key", request_hash, status_code, response, created_at)
            SELECT :key, :request_hash, 202, json_build_object(
                'status', 'accepted', 'event_id', stored.id,
                'key', CAST(:key AS text), 'subject', CAST(:subject AS text)
            ), :accepted_at
            FROM stored
            ON CONFLICT ("key") DO NOTHING RETURNING id
        )
        SELECT stored.id, kept.id AS receipt_id FROM stored LEFT JOIN kept ON true
    """
    binds = [bindparam(name, type_=inbox.c[name].type) for name in _INBOX_ROW]
    binds.append(bindparam("request_hash", type_=receipts.c.request_hash.type))
    return text(sql).bindparams(*binds).columns(id=inbox.c.id.type, receipt_id=receipts.c.id.type)


_ACCEPT_WITH_RECEIPT = _accept_with_receipt()


def record_event(
    runtime: Runtime, *, payload: dict[str, Any], key: str, source: str
) -> tuple[Accepted, Applied]:
    """Accept an event and apply its subject's pending events at once (the CLI without
    Prefect, the simulator, the web app's inline delivery)."""
    with session_scope(runtime.engine) as session:
        accepted = accept(session, payload=payload, key=key, source=source, now=runtime.clock.now())
    return accepted, apply_pending(runtime, subjects=[accepted.subject])


def accept_and_apply(
    session: Session,
    runtime: Runtime,
    *,
    payload: dict[str, Any],
    key: str,
    source: str,
    now: datetime,
) -> tuple[Accepted, Applied]:
    """Accept an event and apply it in the caller's transaction, for a door whose next
    request needs it applied at once (Shopify's products webhooks: the inventory item
    mapping). Applied here unless an earlier event of its subject is still pending; then it
    waits its turn like any other."""
    accepted = accept(session, payload=payload, key=key, source=source, now=now)
    done = Applied()
    if accepted.duplicate:
        return accepted, done
    row = session.get(InboxEvent, accepted.inbox_id)
    assert row is not None
    earlier = session.exec(
        select(InboxEvent.id).where(
            InboxEvent.subject == row.subject,
            col(InboxEvent.status).in_(HOLDING),
            col(InboxEvent.id) < accepted.inbox_id,
        )
    ).first()
    if earlier is not None:
        return accepted, done
    ingested = ingest_event(
        session,
        book=runtime.book,
        now=now,
        payload=payload,
        key=key,
        source=source,
        registry=runtime.registry,
    )
    row.status, row.applied_at, row.attempts = "applied", now, 1
    row.event_id = ingested.event_id
    session.add(row)
    done.applied.append(accepted.inbox_id)
    if ingested.event_id is not None:
        done.event_ids[accepted.inbox_id] = ingested.event_id
    done.enrolled += ingested.routed.enrolled
    done.woken += ingested.routed.woken
    done.exited += ingested.routed.exited
    return accepted, done

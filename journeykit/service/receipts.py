"""Idempotency receipts (``ApiReceipt``: the answer given to an ``Idempotency-Key`` or a
Shopify webhook id) are only needed while a sender may still retry; older ones are deleted.
Stores retry for hours (Shopify: 48 h), so the default retention is 72 h
(``JOURNEYKIT_WEB__RECEIPT_RETENTION_SECONDS``). A retry after that is accepted as new (the
event itself is still recorded once: its ``DomainEvent`` key outlives the receipt).

Deletes go in small batches, each its own short transaction, oldest ids first, so pruning
never holds the write lock for long while the web app records events."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import ApiReceipt

BATCH_SIZE = 500


def prune_receipts(
    engine: Engine, *, now: datetime, retention_hours: float, batch_size: int = BATCH_SIZE
) -> int:
    """Delete the receipts created before ``now - retention_hours``; returns how many."""
    if retention_hours < 0 or batch_size < 1:
        raise ValueError("retention_hours must be >= 0 and batch_size >= 1")
    cutoff = now - timedelta(hours=retention_hours)
    deleted = 0
    while True:
        with Session(engine) as session:
            ids = session.exec(
                select(ApiReceipt.id)
                .where(col(ApiReceipt.created_at) < cutoff)
                .order_by(col(ApiReceipt.id))
                .limit(batch_size)
            ).all()
        if not ids:
            return deleted
        with session_scope(engine) as session:
            session.exec(delete(ApiReceipt).where(col(ApiReceipt.id).in_(ids)))
        deleted += len(ids)
        if len(ids) < batch_size:
            return deleted


def prune_expired_receipts(runtime: Runtime) -> int:
    """The sweep's housekeeping: prune with the runtime's clock and settings."""
    return prune_receipts(
        runtime.engine,
        now=runtime.clock.now(),
        retention_hours=runtime.settings.web.receipt_retention_seconds / 3600,
    )

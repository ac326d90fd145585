"""Sending without a provider, for the simulator: claim exactly as production does (the
same :func:`journeykit.delivery.claim.claim`, so expiry, quiet hours and the send-time
guard apply to held rows too), then record every claimed row as ``simulated`` at once."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import col

from journeykit.delivery.claim import Claimed, claim
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import OutboxMessage


def send_simulated(runtime: Runtime, *, limit: int = 10_000) -> Claimed:
    """Claim what is due and mark it sent (``simulated``, ``sent_at`` now); returns what the
    claim did (ids, expired, deferred, withdrawn)."""
    claimed = claim(runtime, limit=limit)
    if claimed.ids:
        now = runtime.clock.now()
        with session_scope(runtime.engine) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_(claimed.ids),
                    col(OutboxMessage.status) == "sending",
                )
                .values(status="simulated", sent_at=now)
            )
    return claimed

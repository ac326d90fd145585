"""A one-journey run sends only that journey's outbox rows (issue 14: a
"backorder_stock_arrived · sweep" run sent a backorder email), so run names and tags tell
the truth; a run for all journeys sends everything due."""

from __future__ import annotations

from journeykit_rigs import fixtures as testing
from sqlalchemy import update
from sqlmodel import col

from journeykit.delivery.dispatch import send_due
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import OutboxMessage
from journeykit.sandbox.server import SandboxServer
from tests.delivery.conftest import Outbox, make_senders

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox


def test_one_journey_dispatch_sends_only_its_rows(outbox: Outbox, sandbox: SandboxServer) -> None:
    restock = outbox.row("sms", to="+15551230001")
    backorder = outbox.row("sms", to="+15551230002")
    with session_scope(outbox.engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == backorder)
            .values(journey="backorder")
        )
    senders = make_senders(sandbox)
    report = send_due(outbox.runtime, senders, limit=10, journey="restock")
    assert (report.claimed, report.sent) == (1, 1)
    assert outbox.get(restock).status == "sent" and outbox.get(backorder).status == "queued"
    assert send_due(outbox.runtime, senders, limit=10, journey="restock").claimed == 0
    assert send_due(outbox.runtime, senders, limit=10).sent == 1  # the sweep of all journeys
    assert outbox.get(backorder).status == "sent"

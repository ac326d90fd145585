"""Idempotency receipts older than the retention are deleted in batches; newer ones stay;
a retry after its receipt is gone is taken as a new request (and the event, keyed on its
own, is still recorded once)."""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest
from sqlmodel import select

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import ApiReceipt, DomainEvent
from journeykit.service.receipts import prune_expired_receipts, prune_receipts
from journeykit.web.store_events import keep_receipt
from tests.web.conftest import API_KEY, Web, product

AUTH = {"X-Api-Key": API_KEY}


def add_receipts(web: Web, ages_h: list[float]) -> None:
    now = web.clock.now()
    with session_scope(web.engine) as session:
        for n, age in enumerate(ages_h):
            status = {"status": "accepted"}
            keep_receipt(session, f"api:k{n}", "h", status, now - timedelta(hours=age))


def kept(web: Web) -> list[str]:
    with web.session() as session:
        return sorted(r.key for r in session.exec(select(ApiReceipt)).all())


def test_old_receipts_go_in_batches_newer_stay(web: Web) -> None:
    add_receipts(web, [100, 80, 72.01, 71.99, 5, 0, 90, 73])
    deleted = prune_receipts(web.engine, now=web.clock.now(), retention_hours=72, batch_size=2)
    assert deleted == 5
    assert kept(web) == ["api:k3", "api:k4", "api:k5"]
    assert prune_receipts(web.engine, now=web.clock.now(), retention_hours=72) == 0


def test_an_exact_multiple_of_the_batch_is_all_deleted(web: Web) -> None:
    add_receipts(web, [10, 11, 12, 13, 1])
    assert prune_receipts(web.engine, now=web.clock.now(), retention_hours=2, batch_size=2) == 4
    assert kept(web) == ["api:k4"]


def test_the_clock_is_the_one_given(web: Web) -> None:
    add_receipts(web, [1])
    later = web.clock.now() + timedelta(hours=80)
    assert prune_receipts(web.engine, now=web.clock.now(), retention_hours=72) == 0
    assert prune_receipts(web.engine, now=later, retention_hours=72) == 1


def test_bad_arguments_are_refused(web: Web) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        prune_receipts(web.engine, now=web.clock.now(), retention_hours=1, batch_size=0)


def test_a_retry_after_pruning_is_accepted_as_new_and_recorded_once(web: Web) -> None:
    client = web.client()
    headers = {**AUTH, "Idempotency-Key": "evt-old"}
    first = client.post("/events", json=product(), headers=headers)
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    replay = client.post("/events", json=product(), headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    other_body = client.post("/events", json=product(title="Couch"), headers=headers)
    assert other_body.status_code == 409
    web.clock.advance(pendulum.duration(hours=73))
    assert prune_expired_receipts(web.runtime) == 1  # the runtime's clock and settings
    assert kept(web) == []
    again = client.post("/events", json=product(), headers=headers)
    assert again.status_code == 202
    assert "Idempotent-Replayed" not in again.headers  # a new request, with a new receipt
    assert again.json()["status"] == "duplicate"  # the event's own key still holds
    assert kept(web) == ["api:evt-old"]
    with web.session() as session:
        assert len(session.exec(select(DomainEvent)).all()) == 1


@pytest.mark.postgres
def test_prune_on_postgresql(postgres_url: str) -> None:
    from journeykit.foundation.db import make_engine, upgrade

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    now = pendulum.datetime(2026, 3, 2, tz="UTC")
    with session_scope(engine) as session:
        for n, age in enumerate([200, 100, 73, 1]):
            keep_receipt(
                session, f"shopify:orders/create:w{n}", "h", {}, now - timedelta(hours=age)
            )
    try:
        assert prune_receipts(engine, now=now, retention_hours=72, batch_size=2) == 3
        with session_scope(engine) as session:
            assert [r.key for r in session.exec(select(ApiReceipt)).all()] == [
                "shopify:orders/create:w3"
            ]
    finally:
        engine.dispose()

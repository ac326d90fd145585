"""POST /events on PostgreSQL, where a new Idempotency-Key is stored in one statement (the
inbox row and its receipt, ``ON CONFLICT DO NOTHING``): the same answers as everywhere else
for a retry, another body (409), a pruned receipt (duplicate), a pruned inbox row (the
receipt answers, nothing stored again), no key, and concurrent retries of one key."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import ApiReceipt, InboxEvent
from journeykit.foundation.settings import Settings
from journeykit.service.event_batches import BatchWriter, Incoming
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock
from journeykit.web.app import create_app
from journeykit.web.store_events import body_hash, event_key, store_together
from tests.web.conftest import API_KEY, START, free_port, product

pytestmark = pytest.mark.postgres
AUTH = {"X-Api-Key": API_KEY}


@pytest.fixture
def door(postgres_url: str) -> Iterator[tuple[TestClient, Any]]:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    settings = Settings().with_changes(
        {
            "database.url": postgres_url,
            "web.api_key": API_KEY,
            "web.signing_secret": "web-test-secret",
            "web.event_delivery": "worker",
        }
    )
    runtime = build_runtime(settings, engine=engine, clock=VirtualClock(START), owner="t")
    with TestClient(create_app(settings, runtime)) as client:
        yield client, engine
    engine.dispose()


def rows(engine: Any, table: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(table)).all())


def test_a_key_is_stored_once_with_its_receipt_and_replayed(
    door: tuple[TestClient, Any],
) -> None:
    client, engine = door
    headers = {**AUTH, "Idempotency-Key": "evt-1"}
    first = client.post("/events", json=product(), headers=headers)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "accepted" and first.json()["key"] == "api:evt-1"
    again = client.post("/events", json=product(), headers=headers)
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = client.post("/events", json=product("TEE-1", "Tee"), headers=headers)
    assert other.status_code == 409
    [stored] = rows(engine, InboxEvent)
    [receipt] = rows(engine, ApiReceipt)
    assert stored.id == first.json()["event_id"] and stored.subject == first.json()["subject"]
    assert receipt.key == "api:evt-1" and receipt.response == first.json()


def test_pruned_receipt_is_a_duplicate_and_pruned_inbox_row_is_replayed(
    door: tuple[TestClient, Any],
) -> None:
    client, engine = door
    headers = {**AUTH, "Idempotency-Key": "evt-2"}
    first = client.post("/events", json=product(), headers=headers).json()
    with Session(engine) as session:
        session.exec(delete(ApiReceipt))  # type: ignore[call-overload]
        session.commit()
    duplicate = client.post("/events", json=product(), headers=headers)
    assert duplicate.status_code == 202
    assert duplicate.json() == {**first, "status": "duplicate"}
    with Session(engine) as session:
        session.exec(delete(InboxEvent))  # type: ignore[call-overload]
        session.commit()
    replayed = client.post("/events", json=product(), headers=headers)
    assert replayed.status_code == 202 and replayed.json() == duplicate.json()
    assert rows(engine, InboxEvent) == []  # the receipt answered: nothing stored again


def test_without_a_key_every_request_is_a_new_event(door: tuple[TestClient, Any]) -> None:
    client, engine = door
    answers = [client.post("/events", json=product(), headers=AUTH).json() for _ in range(2)]
    assert answers[0]["key"] != answers[1]["key"]
    assert len(rows(engine, InboxEvent)) == 2 and rows(engine, ApiReceipt) == []


def test_concurrent_retries_of_one_key_store_one_event(door: tuple[TestClient, Any]) -> None:
    client, engine = door
    headers = {**AUTH, "Idempotency-Key": "evt-3"}
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: client.post("/events", json=product(), headers=headers), range(16))
        )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["event_id"] for a in answers}) == 1
    assert len(rows(engine, InboxEvent)) == 1 and len(rows(engine, ApiReceipt)) == 1


def incoming(key: str | None, payload: dict[str, Any]) -> Incoming:
    return Incoming(
        payload={**payload},
        key=event_key("api", key),
        source="api",
        now=START,
        request_hash=body_hash(payload) if key is not None else None,
    )


def test_events_stored_together_are_answered_as_if_each_came_alone(
    door: tuple[TestClient, Any],
) -> None:
    """Group commit: one batch holding a new key, the same key again (same body, then
    another), keys stored before (same body, another), a key whose inbox row was pruned and
    keyless events gets the answers those requests get one at a time."""
    client, engine = door
    state = client.app.state.web  # type: ignore[attr-defined]
    seen = client.post("/events", json=product(), headers={**AUTH, "Idempotency-Key": "old"})
    pruned = client.post("/events", json=product(), headers={**AUTH, "Idempotency-Key": "gone"})
    with Session(engine) as session:
        session.exec(delete(InboxEvent).where(InboxEvent.key == "api:gone"))  # type: ignore[call-overload]
        session.commit()
    tee = product("TEE-1", "Tee")
    batch = [
        incoming("new", product()),
        incoming("new", product()),  # twice in one batch: replayed from the first's receipt
        incoming("new", tee),  # another body under that key: 409
        incoming("old", product()),
        incoming("old", tee),
        incoming("gone", product()),
        incoming(None, product()),
        incoming(None, product()),
        incoming("other", tee),
    ]
    answers = [a for a, _ in store_together(state, batch, BatchWriter(engine))]
    statuses = [a.status_code for a in answers]
    assert statuses == [202, 202, 409, 202, 409, 202, 202, 202, 202]
    new = answers[0].body
    assert new["status"] == "accepted" and new["key"] == "api:new" and not answers[0].replayed
    assert answers[1].body == new and answers[1].replayed
    assert answers[3].body == seen.json() and answers[3].replayed
    assert answers[5].body == pruned.json() and answers[5].replayed
    assert answers[6].body["key"] != answers[7].body["key"]
    stored = {row.key: row for row in rows(engine, InboxEvent)}
    assert len(stored) == len(rows(engine, InboxEvent)) == 5  # old, new, other, 2 keyless
    assert "api:gone" not in stored  # its receipt answered: nothing stored again
    assert stored["api:new"].id == new["event_id"] < stored["api:other"].id  # in order
    receipts = {r.key: r.response for r in rows(engine, ApiReceipt)}
    assert receipts["api:new"] == new and receipts["api:other"] == answers[8].body
    assert len(receipts) == 4  # old, gone, new, other: none for keyless events


def test_events_stored_together_get_503_when_the_database_is_away(
    door: tuple[TestClient, Any],
) -> None:
    client, _ = door
    state = client.app.state.web  # type: ignore[attr-defined]
    away = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    state.runtime = replace(state.runtime, engine=away)
    events = [incoming("k", product()), incoming(None, product())]
    answers = store_together(state, events, BatchWriter(away))
    assert [(a.status_code, subject) for a, subject in answers] == [(503, None), (503, None)]
    assert "could not store the event" in answers[0][0].body["detail"]


def test_concurrent_requests_through_the_door_each_stored_once(
    door: tuple[TestClient, Any],
) -> None:
    """Many requests at once (batched by the worker's writer), retries among them."""
    client, engine = door

    def send(i: int) -> Any:
        key = f"many-{i % 20}"
        return client.post(
            "/events", json=product(f"S-{i % 20}"), headers={**AUTH, "Idempotency-Key": key}
        )

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, range(60)))
    assert {a.status_code for a in answers} == {202}
    by_key: dict[str, set[int]] = {}
    for a in answers:
        by_key.setdefault(a.json()["key"], set()).add(a.json()["event_id"])
    assert len(by_key) == 20 and all(len(ids) == 1 for ids in by_key.values())
    assert len(rows(engine, InboxEvent)) == 20 and len(rows(engine, ApiReceipt)) == 20

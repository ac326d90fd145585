"""POST /events on PostgreSQL, where a new Idempotency-Key is stored in one statement (the
inbox row and its receipt, ``ON CONFLICT DO NOTHING``): the same answers as everywhere else
for a retry, another body (409), a pruned receipt (duplicate), a pruned inbox row (the
receipt answers, nothing stored again), no key, and concurrent retries of one key."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlmodel import Session, select

from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import ApiReceipt, InboxEvent
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock
from journeykit.web.app import create_app
from tests.web.conftest import API_KEY, START, product

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

"""POST /events: API key, field-level validation, Idempotency-Key (the event's identity:
no key, a new event), the event stored in the inbox before the 202 (503 when it cannot be),
applied in acceptance order per subject, prompt advancing, Prefect hand-off, and body
limits. Rejected requests record nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import func, select

from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import ApiReceipt, DomainEvent, Enrollment, InboxEvent
from journeykit.web.app import create_app
from journeykit.web.state import EmitFailed, prefect_event
from tests.web.conftest import API_KEY, Web, delayed, order_placed, product

AUTH = {"X-Api-Key": API_KEY}


def count(web: Web, table: Any) -> int:
    with web.session() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_accepts_with_api_key_header_or_bearer(web: Web) -> None:
    client = web.client()
    first = client.post("/events", json=product(), headers=AUTH)
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "accepted" and first.json()["event_id"]
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    second = client.post("/events", json=product("TEE-1", "Tee"), headers=bearer)
    assert second.status_code == 202
    assert count(web, DomainEvent) == 2


def test_missing_or_wrong_key_is_401_and_records_nothing(web: Web) -> None:
    client = web.client()
    assert client.post("/events", json=product()).status_code == 401
    wrong = client.post("/events", json=product(), headers={"X-Api-Key": "nope"})
    assert wrong.status_code == 401
    assert count(web, DomainEvent) == 0


def test_invalid_body_names_the_field(web: Web) -> None:
    client = web.client()
    bad = order_placed()
    bad["order"]["lines"][0]["quantity"] = 0
    response = client.post("/events", json=bad, headers=AUTH)
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]]
    assert any("quantity" in loc for loc in locs), locs
    unknown_type = client.post("/events", json={"type": "order.exploded"}, headers=AUTH)
    assert unknown_type.status_code == 422
    assert client.post("/events", content=b"{not json", headers=AUTH).status_code == 422
    assert count(web, DomainEvent) == 0


def inbox(web: Web) -> list[InboxEvent]:
    with web.session() as session:
        return list(session.exec(select(InboxEvent).order_by(InboxEvent.id)).all())


def test_an_event_before_its_order_waits_then_applies(web: Web) -> None:
    client = web.client()
    early = client.post("/events", json=delayed("1001"), headers=AUTH)
    assert early.status_code == 202 and early.json()["status"] == "accepted"
    [waiting] = inbox(web)
    assert waiting.status == "waiting" and "unknown order" in (waiting.last_error or "")
    assert count(web, DomainEvent) == 0
    for payload in (product(), order_placed()):
        assert client.post("/events", json=payload, headers=AUTH).status_code == 202
    # the order is known now: the delay applied right after it, in the same request
    assert [row.status for row in inbox(web)] == ["applied", "applied", "applied"]
    assert [row.type for row in inbox(web)] == ["order.delayed", "product.upserted", "order.placed"]
    assert web.enrollment("delay_apology").node_id == "wait_choice"


def test_idempotency_key_same_answer_recorded_once(web: Web) -> None:
    client = web.client()
    headers = {**AUTH, "Idempotency-Key": "evt-1"}
    first = client.post("/events", json=product(), headers=headers)
    again = client.post("/events", json=product(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(web, DomainEvent) == 1
    other = client.post("/events", json=product("TEE-1", "Tee"), headers=headers)
    assert other.status_code == 409
    assert count(web, DomainEvent) == 1


def test_the_same_body_without_a_key_is_two_events(web: Web) -> None:
    client = web.client()
    first = client.post("/events", json=product(), headers=AUTH)
    second = client.post("/events", json=product(), headers=AUTH)
    assert first.status_code == second.status_code == 202
    assert first.json()["key"] != second.json()["key"]
    assert "Idempotent-Replayed" not in second.headers
    assert count(web, DomainEvent) == 2 and count(web, ApiReceipt) == 0


def test_touched_enrollments_move_on_at_once(web: Web) -> None:
    client = web.client()
    for payload in (product(), order_placed(), delayed()):
        assert client.post("/events", json=payload, headers=AUTH).status_code == 202
    # No sweep ran: the request itself advanced the delay apology to its wait.
    enrollment = web.enrollment("delay_apology")
    assert enrollment.node_id == "wait_choice" and enrollment.status == "waiting"


def test_prefect_delivery_stores_then_emits(web: Web) -> None:
    emitted: list[tuple[dict[str, Any], str]] = []
    settings = web.settings.with_changes({"web.event_delivery": "prefect"})
    app = create_app(settings, web.runtime, emit=lambda p, k: emitted.append((p, k)))
    from fastapi.testclient import TestClient

    client = TestClient(app)
    headers = {**AUTH, "Idempotency-Key": "evt-9"}
    first = client.post("/events", json=product(), headers=headers)
    again = client.post("/events", json=product(), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() and first.json()["status"] == "accepted"
    assert len(emitted) == 1
    assert emitted[0][0]["type"] == "product.upserted" and emitted[0][1] == "api:evt-9"
    # stored (durable) before the answer; applied by the event flow or the sweep
    [stored] = inbox(web)
    assert stored.key == "api:evt-9" and stored.status == "pending"
    assert count(web, DomainEvent) == 0


def test_prefect_away_still_202_the_event_is_stored(web: Web) -> None:
    from fastapi.testclient import TestClient

    def unreachable(payload: dict[str, Any], key: str) -> None:
        raise EmitFailed("Prefect did not take the event")

    settings = web.settings.with_changes({"web.event_delivery": "prefect"})
    client = TestClient(create_app(settings, web.runtime, emit=unreachable))
    headers = {**AUTH, "Idempotency-Key": "evt-5"}
    first = client.post("/events", json=product(), headers=headers)
    assert first.status_code == 202
    assert [row.status for row in inbox(web)] == ["pending"]


def test_database_away_is_503_and_nothing_promised(web: Web, tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    broken = Runtime(  # a database without the schema: every write fails
        engine=make_engine(f"sqlite:///{tmp_path}/no-schema.db"),
        clock=web.clock,
        book=web.runtime.book,
        settings=web.settings,
        owner="web-test",
    )
    client = TestClient(create_app(web.settings, broken))
    response = client.post("/events", json=product(), headers={**AUTH, "Idempotency-Key": "k"})
    assert response.status_code == 503
    assert "retry later" in response.json()["detail"]


def test_prefect_event_matches_the_event_deployment_trigger() -> None:
    import fnmatch
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).parents[2] / "prefect.yaml").read_text())
    [deployment] = [d for d in config["deployments"] if d["name"] == "event"]
    [trigger] = deployment["triggers"]
    event = prefect_event(product(), "api:k1")
    assert event["event"] in trigger["expect"]
    pattern = trigger["match"]["prefect.resource.id"]
    assert fnmatch.fnmatch(event["resource"]["prefect.resource.id"], pattern)
    assert event["payload"]["event"] == product()  # "{{ event.payload.event }}"
    assert event["id"] == prefect_event(product(), "api:k1")["id"]  # a retry: the same id
    assert event["id"] != prefect_event(product(), "api:k2")["id"]


def test_oversized_body_is_413(web: Web) -> None:
    big = product(title="x" * 500_000)
    response = web.client().post("/events", json=big, headers=AUTH)
    assert response.status_code == 413
    assert count(web, DomainEvent) == 0


def test_healthz_and_no_enrollment_without_events(web: Web) -> None:
    assert web.client().get("/healthz").json() == {"status": "ok"}
    assert count(web, Enrollment) == 0


def test_the_fast_path_and_the_route_answer_alike(web: Web) -> None:
    """A plain JSON request is served by the fast path; a ``+json`` content type (which
    the fast path leaves to FastAPI) by the route: same answers, same rows."""
    client = web.client()
    plain = {"Content-Type": "application/json"}
    fast = {**AUTH, **plain, "Idempotency-Key": "alike-1"}
    routed = {**fast, "Content-Type": "application/vnd.api+json"}
    body = json.dumps(product()).encode()
    first = client.post("/events", content=body, headers=fast)
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    via_route = client.post("/events", content=body, headers=routed)
    assert via_route.status_code == 202 and via_route.json() == first.json()
    assert via_route.headers.get("Idempotent-Replayed") == "true"
    other = json.dumps(product("TEE-1", "Tee")).encode()
    for headers in (fast, routed):
        assert client.post("/events", content=other, headers=headers).status_code == 409
    assert client.post("/events", content=body, headers=plain).status_code == 401
    long_key = {**fast, "Idempotency-Key": "k" * 201}
    assert client.post("/events", content=body, headers=long_key).status_code == 422
    bad = json.dumps({**product(), "type": "order.exploded"}).encode()
    refused = client.post("/events", content=bad, headers={**AUTH, **plain})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][0] == "body"
    assert count(web, InboxEvent) == 1 and count(web, ApiReceipt) == 1

"""The web door (issue 16): pages send a Content-Security-Policy, the API docs are off in
production unless turned on, a digit that is not ASCII ("²") is refused without a 500, a
busy database is retried and then answered 503 (never 500), and previous_quantity reads one
row from the index however many events a SKU has had."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from journeykit.actions.restock import previous_quantity
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import DomainEvent
from journeykit.web.app import create_app
from journeykit.web.busy_retry import BusyRetry
from tests.web.conftest import SHOPIFY_SECRET, Web, product


def test_pages_send_a_content_security_policy(tmp_path: Path) -> None:
    web = Web(tmp_path)
    page = web.client().get("/widget/restock", headers={"Accept": "text/html"})
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    missing = web.client().get("/nowhere", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "content-security-policy" in missing.headers
    assert web.client().get("/healthz").headers["x-content-type-options"] == "nosniff"


def _production(web: Web, **web_changes: Any) -> TestClient:
    changes = {"environment": "production", "providers.sendgrid.api_key": "SG.real-key"}
    changes |= {f"web.{k}": v for k, v in web_changes.items()}
    assert SHOPIFY_SECRET  # the fixture's secrets are real enough for production mode
    return TestClient(create_app(web.settings.with_changes(changes), web.runtime))


def test_api_docs_are_off_in_production_unless_turned_on(tmp_path: Path) -> None:
    web = Web(tmp_path)
    assert web.client().get("/openapi.json").status_code == 200  # development
    production = _production(web)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert production.get(path).status_code == 404, path
    assert _production(web, api_docs=True).get("/openapi.json").status_code == 200


def test_superscript_digits_elsewhere_are_4xx(tmp_path: Path) -> None:
    web = Web(tmp_path)
    client = web.client()
    assert client.get("/reviews/²/photo").status_code == 404
    answer = client.post(
        "/webhooks/sendgrid/events",
        content=b"[]",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": "AAAA",
            "X-Twilio-Email-Event-Webhook-Timestamp": "²³".encode("latin-1"),
            "Content-Type": "application/json",
        },
    )
    assert 400 <= answer.status_code < 500


class Flaky:
    """An app whose database is locked for the first ``fails`` calls."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.calls = 0
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        message = await receive()
        self.bodies.append(message.get("body", b""))
        if self.calls <= self.fails:
            raise OperationalError("INSERT ...", {}, Exception("database is locked"))
        await PlainTextResponse("ok")(scope, receive, send)


def test_a_locked_database_is_retried_with_the_same_body() -> None:
    inner = Flaky(fails=2)
    client = TestClient(BusyRetry(inner, attempts=5, first_pause_seconds=0.001))
    answer = client.post("/events", content=b'{"a": 1}')
    assert answer.status_code == 200 and inner.calls == 3
    assert inner.bodies == [b'{"a": 1}'] * 3


def test_a_database_locked_for_good_is_503_not_500() -> None:
    inner = Flaky(fails=99)
    client = TestClient(BusyRetry(inner, attempts=3, first_pause_seconds=0.001))
    answer = client.post("/events", content=b"{}")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert inner.calls == 3


def test_other_errors_are_not_retried() -> None:
    class Broken(Flaky):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            self.calls += 1
            raise OperationalError("SELECT", {}, Exception("no such table: x"))

    inner = Broken(fails=0)
    with pytest.raises(OperationalError):
        TestClient(BusyRetry(inner, first_pause_seconds=0.001)).post("/x", content=b"")
    assert inner.calls == 1


def test_previous_quantity_reads_one_row_from_the_index(tmp_path: Path) -> None:
    web = Web(tmp_path)
    with session_scope(web.engine) as session:
        now = web.clock.now()
        ingest_event(
            session,
            book=web.runtime.book,
            now=now,
            payload=product(),
            key="p",
            registry=web.runtime.registry,
        )
        for n in range(300):
            payload = {"type": "inventory.changed", "sku": "SOFA-1", "quantity": n}
            ingest_event(
                session,
                book=web.runtime.book,
                now=now,
                payload=payload,
                key=f"i{n}",
                registry=web.runtime.registry,
            )
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    with web.session() as session:
        newest = select(DomainEvent).order_by(col(DomainEvent.id).desc())
        last = session.exec(newest).first()
        assert last is not None
        event.listen(web.engine, "before_cursor_execute", capture)
        try:
            assert previous_quantity(session, last, "SOFA-1") == 298
        finally:
            event.remove(web.engine, "before_cursor_execute", capture)
        ((query, parameters),) = [s for s in statements if "domainevent" in s[0].lower()]
        assert "LIMIT" in query.upper()
        explain = "EXPLAIN QUERY PLAN " + query
        plan = session.connection().exec_driver_sql(explain, parameters).all()
    text = " ".join(str(row) for row in plan)
    assert "ix_domainevent_subject" in text and "TEMP B-TREE" not in text, text

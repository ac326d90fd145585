"""Hostile HTTP against the web app: schemathesis fuzzes every operation of the app's own
OpenAPI schema (no 5xx, responses match the schema); forged, replayed, oversized and
malformed webhooks change nothing in the database; customer data carrying HTML or Jinja
syntax comes out escaped (never executed) in every message and page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from markupsafe import escape
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import func, select
from sqlmodel import SQLModel
from sqlmodel import select as sql_select
from twilio.request_validator import RequestValidator

from journeykit.foundation.models import OutboxMessage
from tests.web.conftest import (
    API_KEY,
    PUBLIC,
    SHOPIFY_SECRET,
    TWILIO_TOKEN,
    Web,
    delayed,
    order_placed,
    product,
)

NAME = "<script>alert(1)</script>{{ 7*7 }}{% if true %}IF{% endif %}"
TITLE = '<img src=x onerror="alert(2)">Sofa {{ cycler.__init__ }}'


def row_counts(web: Web) -> dict[str, int]:
    with web.engine.connect() as c:
        return {
            t.name: c.execute(select(func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def test_schemathesis_finds_no_server_error(tmp_path: Path) -> None:
    web = Web(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", web.app)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                headers=auth, checks=[not_a_server_error, response_schema_conformance]
            )

        fuzz()


def _sendgrid(web: Web, body: bytes, ts: int, signer: Any = None) -> Any:
    signature = (signer or web.sendgrid_key).sign(
        str(ts).encode() + body, ec.ECDSA(hashes.SHA256())
    )
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": str(ts),
        "Content-Type": "application/json",
    }
    return web.client().post("/webhooks/sendgrid/events", content=body, headers=headers)


def _twilio(web: Web, path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, params)
    return web.client().post(path, data=params, headers={"X-Twilio-Signature": signature})


def _shopify(web: Web, body: bytes, secret: str = SHOPIFY_SECRET) -> Any:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    headers = {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Webhook-Id": "wh-1",
        "Content-Type": "application/json",
    }
    return web.client().post("/webhooks/shopify/orders/create", content=body, headers=headers)


def test_hostile_webhooks_change_nothing(tmp_path: Path) -> None:
    web = Web(tmp_path)
    web.emit(product(), "p1")
    web.emit(order_placed(), "o1")
    before = row_counts(web)
    now = int(time.time())
    event = json.dumps([{"event": "delivered", "sg_event_id": "e1", "email": "x@y.z"}]).encode()
    sms = {"From": "+14155550123", "To": "+15005550006", "Body": "STOP", "MessageSid": "SM1"}
    status = {"MessageSid": "SM9", "MessageStatus": "delivered"}
    huge = b"[" + b'{"event": "open"},' * 400_000 + b"{}]"
    stranger = ec.generate_private_key(ec.SECP256R1())
    answers = {
        "sendgrid forged": _sendgrid(web, event, now, stranger),
        "sendgrid replayed (stale)": _sendgrid(web, event, now - 3600),
        "sendgrid from the future": _sendgrid(web, event, now + 3600),
        "sendgrid malformed body": _sendgrid(web, b"{not json", now),
        "sendgrid malformed signature": web.client().post(
            "/webhooks/sendgrid/events",
            content=event,
            headers={
                "X-Twilio-Email-Event-Webhook-Signature": "%%%",
                "X-Twilio-Email-Event-Webhook-Timestamp": "yesterday",
            },
        ),
        "sendgrid oversized": _sendgrid(web, huge, now),
        "twilio sms forged": _twilio(web, "/webhooks/twilio/sms", sms, token="guess"),
        "twilio sms unsigned": web.client().post("/webhooks/twilio/sms", data=sms),
        "twilio status forged": _twilio(web, "/webhooks/twilio/status", status, token="x"),
        "shopify forged": _shopify(web, b'{"id": 1}', secret="guess"),
        "shopify malformed": _shopify(web, b"\xff\xfe{"),
        "shopify oversized": _shopify(web, b'{"note": "' + b"x" * 7_000_000 + b'"}'),
        "events without key": web.client().post("/events", json=delayed()),
        "events wrong key": web.client().post(
            "/events", json=delayed(), headers={"Authorization": "Bearer guess"}
        ),
        "events malformed": web.client().post(
            "/events", content=b"{]", headers={"Authorization": f"Bearer {API_KEY}"}
        ),
    }
    wrong = {name: r.status_code for name, r in answers.items() if not 400 <= r.status_code < 500}
    assert wrong == {}, "hostile requests must be refused with a 4xx"
    assert row_counts(web) == before, "a refused request recorded something"
    # a genuine Twilio reply, replayed: recorded once
    consent = {"From": "+14155550123", "To": "+15005550006", "Body": "HELP", "MessageSid": "SM7"}
    assert _twilio(web, "/webhooks/twilio/sms", consent).status_code < 300
    once = row_counts(web)
    assert _twilio(web, "/webhooks/twilio/sms", consent).status_code < 300
    assert row_counts(web) == once, "a replayed webhook was recorded twice"


@pytest.fixture
def hostile_web(tmp_path: Path) -> Web:
    web = Web(tmp_path)
    web.emit(product(title=TITLE), "p1")
    placed = order_placed()
    placed["customer"]["first_name"] = NAME
    web.emit(placed, "o1")
    web.emit(delayed(), "d1")
    return web


def test_customer_data_is_escaped_in_every_message(hostile_web: Web) -> None:
    with hostile_web.session() as session:
        rows = [r for r in session.exec(sql_select(OutboxMessage)).all() if r.content]
    assert rows, "the journeys sent nothing"
    seen = 0
    for row in rows:
        c = row.content
        for text in (c.get("subject", ""), c.get("text", ""), c.get("body", "")):
            if "alert(" in text:  # plain text: the data verbatim, never run as a template
                seen += 1
                assert NAME in text or TITLE in text, f"{row.key}: data was changed or run"
        html = c.get("html", "")
        assert "<script>" not in html and "<img src=x" not in html, row.key
        if "alert(" in html:
            seen += 1
            assert str(escape(NAME)) in html or str(escape(TITLE)) in html, row.key
    assert seen, "no message showed the customer's name or the product title"


def test_customer_data_is_escaped_in_pages(hostile_web: Web) -> None:
    paths = [p for row in _emails(hostile_web) for p in hostile_web.links(row.node_id).values()]
    assert paths, "the emails carry action links"
    pages = [hostile_web.client().get(path) for path in paths]
    for page in pages:
        assert page.status_code == 200
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text
    assert any(str(escape(TITLE)) in page.text for page in pages), "pages show the product"


def _emails(web: Web) -> list[OutboxMessage]:
    with web.session() as session:
        rows = session.exec(sql_select(OutboxMessage)).all()
    return [r for r in rows if r.channel == "email" and r.content]

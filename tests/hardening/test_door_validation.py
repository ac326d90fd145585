"""Hostile inputs at the door (issue 16): every one is a 4xx naming the field, and nothing is
written. Deep JSON is refused before any parser recurses; event payloads are checked by their
pydantic models (quantities, text, zones, windows, URLs) so nothing fails later in a journey."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError

from journeykit.language.event_types import parse_event
from journeykit.web.limits import json_depth
from tests.hardening.test_hostile_http import row_counts
from tests.web.conftest import API_KEY, SHOPIFY_SECRET, Web, delayed, order_placed, product

AUTH = {"Authorization": f"Bearer {API_KEY}"}
DEEP = b"[" * 100_000
NESTED = b'{"id": 1, "note": ' + b"[" * 5000 + b"]" * 5000 + b"}"


def _shopify(web: Web, body: bytes) -> Any:
    digest = hmac.new(SHOPIFY_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Webhook-Id": "wh-deep",
        "Content-Type": "application/json",
    }
    return web.client().post("/webhooks/shopify/orders/create", content=body, headers=headers)


def _sendgrid(web: Web, body: bytes) -> Any:
    ts = int(time.time())
    signature = web.sendgrid_key.sign(str(ts).encode() + body, ec.ECDSA(hashes.SHA256()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": str(ts),
        "Content-Type": "application/json",
    }
    return web.client().post("/webhooks/sendgrid/events", content=body, headers=headers)


def _with(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``payload`` with the field at dotted ``path`` set to ``value``."""
    import copy

    out = copy.deepcopy(payload)
    *parents, last = path.split(".")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = value
    return out


def test_json_depth_ignores_brackets_in_strings() -> None:
    assert json_depth(b'{"a": "[[[[[[[[", "b": [1, {"c": []}]}') == 4
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(DEEP) == 100_000
    assert json_depth(b"plain") == 0


def test_deep_json_is_refused_everywhere_and_writes_nothing(tmp_path: Path) -> None:
    web = Web(tmp_path)
    before = row_counts(web)
    answers = {
        "restock signups": web.client().post(
            "/restock/signups", content=DEEP, headers={"Content-Type": "application/json"}
        ),
        "restock signups, no content type": web.client().post("/restock/signups", content=DEEP),
        "events": web.client().post(
            "/events", content=DEEP, headers={**AUTH, "Content-Type": "application/json"}
        ),
        "shopify, signed": _shopify(web, NESTED),
        "sendgrid, signed": _sendgrid(web, b"[" + NESTED + b"]"),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert all(400 <= s < 500 for s in statuses.values()), statuses
    for name, answer in answers.items():
        if answer.status_code == 400:
            assert answer.json()["detail"][0]["loc"] == ["body"], name
    assert row_counts(web) == before


INVENTORY = {"type": "inventory.changed", "sku": "SOFA-1", "quantity": 3}
WITH_WINDOW = {**delayed(), "ship_from": "2026-03-20T00:00:00Z", "ship_to": "2026-03-27T00:00:00Z"}

HOSTILE = [
    ("quantity 1e30", INVENTORY, "quantity", 10**30, "quantity"),
    ("quantity 1e30 as a float", INVENTORY, "quantity", 1e30, "quantity"),
    ("line quantity 1e30", order_placed(), "order.lines.0.quantity", 10**30, "quantity"),
    ("lone surrogate in a sku", INVENTORY, "sku", "SOFA\ud800", "sku"),
    ("lone surrogate in a name", order_placed(), "customer.first_name", "\udfff", "first_name"),
    ("empty sku", product(), "product.sku", "", "sku"),
    ("blank title", product(), "product.title", "   ", "title"),
    ("javascript url", product(), "product.url", "javascript:alert(1)", "url"),
    ("data image url", product(), "product.image_url", "data:text/html,x", "image_url"),
    ("backorderable 0", product(), "product.backorderable", 0, "backorderable"),
    ("unknown zone", order_placed(), "customer.timezone", "Not/AZone", "timezone"),
    ("ship_from 9999", WITH_WINDOW, "ship_from", "9999-01-01T00:00:00Z", "ship_from"),
    ("ship_to 0001", WITH_WINDOW, "ship_to", "0001-01-01T00:00:00Z", "ship_to"),
    ("window ends before it starts", WITH_WINDOW, "ship_to", "2026-03-01T00:00:00Z", "ship_to"),
    ("negative price", product(), "product.price_cents", -1, "price_cents"),
]


@pytest.mark.parametrize(
    ("payload", "path", "value", "field"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_event_models_refuse_hostile_fields(
    payload: dict[str, Any], path: str, value: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_event(_with(payload, path, value))
    text = str(caught.value)
    assert field in text, text


def test_events_door_answers_422_naming_the_field_and_writes_nothing(tmp_path: Path) -> None:
    web = Web(tmp_path)
    web.emit(product(), "p1")
    before = row_counts(web)
    client = web.client()
    for name, payload, path, value, field in HOSTILE:
        body = _with(payload, path, value)
        if isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            import json

            raw = json.dumps(body).encode()  # json.dumps escapes the surrogate as \ud800
            answer = client.post(
                "/events", content=raw, headers={**AUTH, "Content-Type": "application/json"}
            )
        else:
            answer = client.post("/events", json=body, headers=AUTH)
        assert answer.status_code == 422, (name, answer.status_code, answer.text[:300])
        locs = [str(part) for e in answer.json()["detail"] for part in e["loc"]]
        msgs = " ".join(e["msg"] for e in answer.json()["detail"])
        assert field in locs or field in msgs, (name, answer.json())
    assert row_counts(web) == before


def test_good_events_still_pass() -> None:
    assert parse_event(product()).type == "product.upserted"
    assert parse_event(order_placed()).type == "order.placed"
    assert parse_event(WITH_WINDOW).type == "order.delayed"
    assert parse_event({**INVENTORY, "quantity": -2}).type == "inventory.changed"

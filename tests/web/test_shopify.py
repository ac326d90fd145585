"""Shopify webhooks: HMAC verified over the raw body, mapped to our events, once per
webhook id; forged, unknown and malformed ones record nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from sqlmodel import select

from journeykit.foundation.models import DomainEvent, Order
from journeykit.web.shopify_map import Unmappable, to_event
from tests.web.conftest import SHOPIFY_SECRET, Web, product

ORDER = {
    "id": 820982911946154508,
    "order_number": 1001,
    "name": "#1001",
    "email": "jon@example.com",
    "total_price": "499.00",
    "currency": "USD",
    "customer_locale": "ko-KR",
    "customer": {
        "id": 115310627314723954,
        "email": "jon@example.com",
        "first_name": "Jon",
        "email_marketing_consent": {"state": "subscribed"},
    },
    "line_items": [{"sku": "SOFA-1", "quantity": 1, "price": "499.00"}, {"title": "Gift card"}],
}


def post(web: Web, topic: str, data: Any, *, secret: str = SHOPIFY_SECRET, **headers: str) -> Any:
    body = json.dumps(data).encode() if not isinstance(data, bytes) else data
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return web.client().post(
        f"/webhooks/shopify/{topic}",
        content=body,
        headers={"X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(), **headers},
    )


def events(web: Web) -> list[DomainEvent]:
    with web.session() as session:
        return list(session.exec(select(DomainEvent)).all())


def test_orders_create_becomes_order_placed(web: Web) -> None:
    web.emit(product(), "p")
    response = post(web, "orders/create", ORDER, **{"X-Shopify-Webhook-Id": "wh-1"})
    assert response.status_code == 202, response.text
    with web.session() as session:
        order = session.exec(select(Order).where(Order.number == "1001")).one()
        assert order.total_cents == 49900
    assert [e.type for e in events(web)] == ["product.upserted", "order.placed"]


def test_same_webhook_id_is_recorded_once(web: Web) -> None:
    web.emit(product(), "p")
    headers = {"X-Shopify-Webhook-Id": "wh-2"}
    first = post(web, "orders/create", ORDER, **headers)
    again = post(web, "orders/create", ORDER, **headers)
    assert first.json() == again.json()
    assert len(events(web)) == 2


def test_forged_signature_is_403(web: Web) -> None:
    web.emit(product(), "p")
    assert post(web, "orders/create", ORDER, secret="wrong").status_code == 403
    unsigned = web.client().post("/webhooks/shopify/orders/create", json=ORDER)
    assert unsigned.status_code == 403
    assert len(events(web)) == 1


def test_unknown_topic_and_malformed_body(web: Web) -> None:
    assert post(web, "products/delete", {"id": 1}).status_code == 404
    assert post(web, "orders/create", b"{oops").status_code == 400
    assert post(web, "orders/create", [1, 2]).status_code == 400
    assert post(web, "orders/create", {"line_items": []}).status_code == 422
    assert events(web) == []


def test_cancel_and_fulfillment_follow_the_order(web: Web) -> None:
    web.emit(product(), "p")
    post(web, "orders/create", ORDER)
    shipped = {
        "order_id": 1,
        "name": "#1001.1",
        "tracking_number": "1Z9",
        "tracking_company": "UPS",
    }
    assert post(web, "fulfillments/create", shipped).status_code == 202
    with web.session() as session:
        order = session.exec(select(Order).where(Order.number == "1001")).one()
        assert order.status == "shipped" and order.tracking_number == "1Z9"
    assert post(web, "orders/cancelled", {"order_number": 1001}).status_code == 202


def test_cart_mapping() -> None:
    cart = to_event(
        "carts/update",
        {
            "token": "c1",
            "email": "a@b.co",
            "line_items": [{"sku": "S", "quantity": 2, "price": "1.50"}],
        },
    )
    assert cart["cart"]["lines"] == [{"sku": "S", "quantity": 2, "price_cents": 150}]
    assert cart["customer"]["id"] == "a@b.co"
    with pytest.raises(Unmappable):
        to_event("carts/update", {"token": "c1"})
    with pytest.raises(Unmappable):
        to_event("inventory_levels/update", {"inventory_item_id": 5})  # needs the catalog

"""Shopify's products webhooks teach the catalog which inventory item is which SKU, and
``inventory_levels/update`` (which names the inventory item, never the SKU) follows that
mapping; an inventory item nobody mapped is answered 200, recorded nowhere, and logged."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlmodel import select

from journeykit.foundation.models import ApiReceipt, Product, Variant
from journeykit.web.app import create_app
from journeykit.web.shopify_map import Unmappable, inventory_level, product_variants
from tests.web.conftest import Web, product
from tests.web.test_shopify import events, post

TEE = {
    "id": 788032119674292922,
    "title": "Linen Tee",
    "handle": "linen-tee",
    "product_type": "Shirts",
    "image": {"src": "https://cdn.shopify.example/tee.jpg"},
    "variants": [
        {
            "id": 39072856,
            "title": "M",
            "sku": "TEE-M",
            "price": "32.00",
            "inventory_policy": "deny",
            "inventory_quantity": 0,
            "inventory_item_id": 808950810,
        },
        {
            "id": 39072857,
            "title": "L",
            "sku": "TEE-L",
            "price": "34.50",
            "inventory_policy": "continue",
            "inventory_quantity": 3,
            "inventory_item_id": 808950811,
        },
        {"id": 39072858, "title": "Sample", "sku": "", "inventory_item_id": 808950812},
    ],
}


def level(item: int, available: int) -> dict[str, Any]:
    return {
        "inventory_item_id": item,
        "location_id": 655441491,
        "available": available,
        "updated_at": "2026-03-02T10:00:00-05:00",
    }


def variants(web: Web) -> dict[str, Variant]:
    with web.session() as session:
        return {v.sku: v for v in session.exec(select(Variant)).all()}


def receipts(web: Web) -> int:
    with web.session() as session:
        return len(session.exec(select(ApiReceipt)).all())


def test_products_create_builds_variants_with_their_inventory_items(web: Web) -> None:
    response = post(web, "products/create", TEE, **{"X-Shopify-Webhook-Id": "wh-p1"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert [(v["sku"], v["inventory_item_id"]) for v in body["variants"]] == [
        ("TEE-M", "808950810"),
        ("TEE-L", "808950811"),
    ]
    found = variants(web)
    assert set(found) == {"TEE-M", "TEE-L"}  # the variant without a SKU is left out
    assert found["TEE-M"].shopify_inventory_item_id == "808950810"
    assert (found["TEE-L"].price_cents, found["TEE-L"].inventory) == (3450, 3)
    assert found["TEE-L"].backorderable and not found["TEE-M"].backorderable
    assert found["TEE-M"].title == "M"
    with web.session() as session:
        tee = session.exec(select(Product).where(Product.handle == "linen-tee")).one()
    assert tee.url == "https://shop.example/products/linen-tee"
    assert (tee.category, tee.image_url) == ("Shirts", "https://cdn.shopify.example/tee.jpg")
    assert [e.type for e in events(web)] == ["product.upserted", "product.upserted"]
    assert {e.source for e in events(web)} == {"shopify"}


def test_inventory_level_updates_the_mapped_variant(web: Web) -> None:
    post(web, "products/create", TEE)
    response = post(web, "inventory_levels/update", level(808950811, 12))
    assert response.status_code == 202, response.text
    assert variants(web)["TEE-L"].inventory == 12
    last = events(web)[-1]
    assert (last.type, last.data["sku"], last.data["quantity"]) == (
        "inventory.changed",
        "TEE-L",
        12,
    )


def test_unknown_inventory_item_is_200_records_nothing_and_warns(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    web.emit(product("TEE-M"), "p")  # the SKU exists, but nobody told us its inventory item
    before = (len(events(web)), receipts(web))
    with caplog.at_level(logging.WARNING, logger="journeykit.web.routes.shopify"):
        response = post(
            web, "inventory_levels/update", level(4242, 9), **{"X-Shopify-Webhook-Id": "wh-i"}
        )
    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    assert (len(events(web)), receipts(web)) == before
    assert variants(web)["TEE-M"].inventory == 0
    warning = next(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "4242" in warning and "products/update" in warning
    assert "shopify_inventory_item_id" in warning


def test_products_update_keeps_what_shopify_does_not_say(web: Web) -> None:
    mine = product("TEE-M", "Tee", currency="EUR", days_to_use=30, inventory=7)
    mine["product"]["handle"] = "linen-tee"
    web.emit(mine, "p")
    update = {**TEE, "variants": [{**TEE["variants"][0], "inventory_quantity": None}]}
    assert post(web, "products/update", update).status_code == 202
    tee = variants(web)["TEE-M"]
    assert (tee.currency, tee.inventory, tee.price_cents) == ("EUR", 7, 3200)
    assert tee.shopify_inventory_item_id == "808950810"
    with web.session() as session:
        row = session.exec(select(Product).where(Product.handle == "linen-tee")).one()
    assert (row.url, row.days_to_use, row.title) == (
        "https://shop.example/p/tee-m",
        30,
        "Linen Tee",
    )


def test_renamed_sku_takes_the_inventory_item_along(web: Web) -> None:
    post(web, "products/create", TEE)
    renamed = {**TEE, "variants": [{**TEE["variants"][0], "sku": "TEE-M2"}]}
    assert post(web, "products/update", renamed).status_code == 202
    found = variants(web)
    assert found["TEE-M"].shopify_inventory_item_id is None
    assert found["TEE-M2"].shopify_inventory_item_id == "808950810"
    post(web, "inventory_levels/update", level(808950810, 5))
    assert (variants(web)["TEE-M2"].inventory, variants(web)["TEE-M"].inventory) == (5, 0)


def test_products_webhook_replay_is_recorded_once(web: Web) -> None:
    headers = {"X-Shopify-Webhook-Id": "wh-p2"}
    first = post(web, "products/create", TEE, **headers)
    again = post(web, "products/create", TEE, **headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert len(events(web)) == 2 and receipts(web) == 1


def test_forged_or_unmappable_products_record_nothing(web: Web) -> None:
    assert post(web, "products/create", TEE, secret="forged").status_code == 403
    assert post(web, "products/update", {"variants": TEE["variants"]}).status_code == 422
    no_sku = {**TEE, "variants": [TEE["variants"][2]]}
    answer = post(web, "products/create", no_sku)
    assert answer.status_code == 200 and answer.json()["status"] == "ignored"
    bad_price = {**TEE, "variants": [{**TEE["variants"][0], "price": "free"}]}
    assert post(web, "products/update", bad_price).status_code == 422
    assert post(web, "inventory_levels/update", {"inventory_item_id": 1}).status_code == 422
    assert events(web) == [] and variants(web) == {} and receipts(web) == 0


def test_restock_starts_from_a_shopify_inventory_level(web: Web) -> None:
    post(web, "products/create", TEE)
    signup = {
        "type": "restock.signup",
        "customer": {"id": "C-9", "email": "c9@example.com", "consent": {"email": True}},
        "sku": "TEE-M",
        "channels": ["email"],
        "consent_wording": "Email me when it is back.",
    }
    web.emit(signup, "s1")
    response = post(web, "inventory_levels/update", level(808950810, 10))
    assert response.status_code == 202
    assert response.json()["status"] == "accepted", response.json()
    assert web.enrollment("restock").status != "exited"


def test_prefect_delivery_still_learns_the_catalog_in_the_request(web: Web) -> None:
    emitted: list[tuple[dict[str, Any], str]] = []
    settings = web.settings.with_changes({"web.event_delivery": "prefect"})
    app = create_app(settings, web.runtime, emit=lambda p, k: emitted.append((p, k)))
    web.app = app
    assert post(web, "products/create", TEE).status_code == 202
    assert variants(web)["TEE-M"].shopify_inventory_item_id == "808950810"
    headers = {"X-Shopify-Webhook-Id": "wh-9"}
    response = post(web, "inventory_levels/update", level(808950810, 4), **headers)
    assert response.json()["status"] == "accepted"
    assert emitted == [
        (
            {"type": "inventory.changed", "sku": "TEE-M", "quantity": 4},
            "shopify:inventory_levels/update:wh-9",
        )
    ]


def test_pure_mapping() -> None:
    assert inventory_level(level(5, 0)) == ("5", 0)
    for bad in (
        {"available": 3},
        {"inventory_item_id": 5},
        {"inventory_item_id": 5, "available": "3"},
        {"inventory_item_id": {"id": 5}, "available": 3},
        {"inventory_item_id": True, "available": 3},
    ):
        with pytest.raises(Unmappable):
            inventory_level(bad)
    single = {
        "handle": "mug",
        "title": "Mug",
        "variants": [{"sku": "MUG", "title": "Default Title"}],
    }
    assert product_variants(single) == [
        ({"handle": "mug", "title": "Mug", "sku": "MUG", "variant_title": ""}, None)
    ]

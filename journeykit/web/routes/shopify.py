"""``POST /webhooks/shopify/{resource}/{action}``: the webhooks brands already have
(orders/create, orders/cancelled, inventory_levels/update, fulfillments/create,
carts/update, products/create, products/update), verified with ``X-Shopify-Hmac-Sha256``
and recorded once per ``X-Shopify-Webhook-Id``. An inventory level for an inventory item
no variant has is answered 200 (Shopify retries anything else for 48 hours), recorded
nowhere, and logged as a warning saying how to teach Journeykit the mapping."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from journeykit.language.event_types import parse_event
from journeykit.web.shopify_catalog import accept_products, sku_for_inventory_item
from journeykit.web.shopify_map import (
    CATALOG_TOPICS,
    INVENTORY_TOPIC,
    TOPICS,
    Unmappable,
    inventory_changed,
    inventory_level,
    product_variants,
    to_event,
)
from journeykit.web.signatures import shopify_valid
from journeykit.web.state import WebState, get_state
from journeykit.web.store_events import accept_event

router = APIRouter(tags=["webhooks"])
log = logging.getLogger(__name__)


def _problem(status: int, detail: Any) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


@router.post(
    "/webhooks/shopify/{resource}/{action}",
    status_code=202,
    responses={
        200: {"description": "ignored: no variant has this inventory item, or no SKU"},
        202: {"description": "recorded (or already recorded)"},
        400: {"description": "body is not a JSON object"},
        403: {"description": "signature missing or wrong"},
        404: {"description": "topic not handled"},
        422: {"description": "payload cannot be mapped to an event"},
    },
)
async def shopify_webhook(
    resource: str,
    action: str,
    request: Request,
    x_shopify_hmac_sha256: Annotated[str | None, Header()] = None,
    x_shopify_webhook_id: Annotated[str | None, Header(max_length=200)] = None,
    state: WebState = Depends(get_state),
) -> JSONResponse:
    """A Shopify webhook, mapped to a Journeykit event and recorded once."""
    body = await request.body()
    secret = state.settings.providers.shopify.webhook_secret.get_secret_value()
    if not shopify_valid(secret, body, x_shopify_hmac_sha256 or ""):
        return _problem(403, "X-Shopify-Hmac-Sha256 is missing or does not match the body")
    topic = f"{resource}/{action}"
    if topic not in TOPICS:
        return _problem(404, f"topic {topic!r} is not handled; handled: {', '.join(TOPICS)}")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _problem(400, "the body is not JSON")
    if not isinstance(data, dict):
        return _problem(400, "the body is not a JSON object")
    try:
        if topic in CATALOG_TOPICS:
            return await _products(state, topic, data, x_shopify_webhook_id)
        if topic == INVENTORY_TOPIC:
            item_id, available = inventory_level(data)
            sku = await run_in_threadpool(sku_for_inventory_item, state.runtime.engine, item_id)
            if sku is None:
                return _unknown_inventory_item(item_id)
            payload = inventory_changed(sku, available)
        else:
            payload = to_event(topic, data)
        parse_event(payload)
    except Unmappable as exc:
        return _problem(422, [{"loc": ["body"], "msg": str(exc), "type": "unmappable"}])
    except (ValidationError, ValueError, TypeError) as exc:
        return _problem(422, [{"loc": ["body"], "msg": str(exc)[:500], "type": "invalid"}])
    answer = await run_in_threadpool(
        accept_event,
        state,
        payload,
        scope=f"shopify:{topic}",
        key=x_shopify_webhook_id,
        source="shopify",
    )
    return JSONResponse(answer.body, status_code=answer.status_code)


async def _products(
    state: WebState, topic: str, data: dict[str, Any], key: str | None
) -> JSONResponse:
    variants = product_variants(data)
    if not variants:
        detail = f"product {data.get('handle')!r} has no variant with a SKU: nothing to follow"
        log.info("Shopify %s ignored: %s", topic, detail)
        return JSONResponse({"status": "ignored", "detail": detail}, status_code=200)
    answer = await run_in_threadpool(accept_products, state, topic, data, variants, key)
    return JSONResponse(answer.body, status_code=answer.status_code)


def _unknown_inventory_item(item_id: str) -> JSONResponse:
    detail = (
        f"no variant has Shopify inventory item {item_id}; nothing recorded. Send the "
        "product's products/update webhook (or set variant.shopify_inventory_item_id) so "
        "Journeykit knows its SKU"
    )
    log.warning("Shopify inventory_levels/update ignored: %s", detail)
    return JSONResponse({"status": "ignored", "detail": detail}, status_code=200)

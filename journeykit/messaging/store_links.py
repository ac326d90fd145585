"""Links to the store itself (not to this server): an order's page, a cart refilled, the
checkout, and a discount code on any of them. Built from the store URL templates in settings
(``store.*_url_template``; the default shape is a Shopify cart permalink)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from journeykit.foundation.settings import StoreSettings
from journeykit.templating.urls import with_query


def _fill(template: str, store: StoreSettings, **names: str) -> str:
    return template.format(store_url=store.url.rstrip("/"), **names)


def cart_items(lines: Iterable[tuple[str, int]]) -> str:
    """``sku:quantity`` pairs, comma-separated (the cart permalink's item list)."""
    return ",".join(f"{quote(sku, safe='')}:{int(quantity)}" for sku, quantity in lines)


def order_url(store: StoreSettings, number: str) -> str:
    return _fill(store.order_url_template, store, order_number=quote(number, safe=""))


def cart_url(store: StoreSettings, token: str, lines: Iterable[tuple[str, int]]) -> str:
    items = cart_items(lines)
    return _fill(store.cart_url_template, store, cart_token=quote(token, safe=""), items=items)


def checkout_url(store: StoreSettings, token: str, lines: Iterable[tuple[str, int]]) -> str:
    items = cart_items(lines)
    return _fill(store.checkout_url_template, store, cart_token=quote(token, safe=""), items=items)


def with_discount(store: StoreSettings, url: str, code: str) -> str:
    """A store link that applies ``code`` at checkout."""
    return with_query(url, store.discount_parameter, code)


def is_store_url(store: StoreSettings, url: str) -> bool:
    """Whether ``url`` is on the configured store (same scheme and host)."""
    mine, other = urlsplit(store.url), urlsplit(url)
    return (mine.scheme, mine.netloc) == (other.scheme, other.netloc)

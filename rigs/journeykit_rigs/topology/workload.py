"""The store's side of the topology test: events as a store sends them (``POST /events`` with an
``Idempotency-Key``, retried on 503 or a refused connection like any webhook sender), and the
messages each should lead to. Customers have an email address only, so every expected message
is an email (no SMS quiet hours whatever the hour CI runs at)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

SOFA = "TOPO-SOFA"  # in stock: what the delayed orders bought
LAMP = "TOPO-LAMP"  # sold out: what the restock signups wait for
RESTOCK_QUANTITY = 40  # x subscribers_per_unit (3) = 120 alerts: room for every signup


@dataclass(frozen=True)
class Expected:
    """One message that must reach the sandbox exactly once: to ``to``, from ``node``, caused
    by the event accepted under ``cause`` (the latency runs from that event's 202)."""

    to: str
    node: str
    cause: str
    subject: str


@dataclass
class Posted:
    key: str
    payload: dict[str, Any]
    status: int
    accepted_at: datetime | None  # when the 202 came (wall clock: the sandbox's stamps are)
    tries: int


@dataclass
class Store:
    """Posts events to ``journeys serve`` and remembers every answer."""

    web_url: str
    api_key: str
    retry_for_s: float = 180.0
    posted: dict[str, Posted] = field(default_factory=dict)

    def post(self, key: str, payload: dict[str, Any]) -> Posted:
        headers = {"X-Api-Key": self.api_key, "Idempotency-Key": key}
        deadline = time.monotonic() + self.retry_for_s
        tries, status = 0, 0
        with httpx.Client(timeout=30) as client:
            while True:
                tries += 1
                try:
                    status = client.post(
                        f"{self.web_url}/events", json=payload, headers=headers
                    ).status_code
                except httpx.TransportError:
                    status = 0
                if (status < 500 and status != 0) or time.monotonic() > deadline:
                    break
                time.sleep(min(5.0, 0.5 * tries))  # a store's webhook retry, shortened
        accepted = datetime.now(UTC) if status == 202 else None
        answer = Posted(key, payload, status, accepted, tries)
        self.posted[key] = answer
        return answer


def customer(name: str, *, marketing: bool = True) -> dict[str, Any]:
    return {
        "id": f"topo-{name}",
        "email": f"{name}@topology.example",
        "first_name": name.title(),
        "timezone": "America/New_York",
        "consent": {"email": marketing},
    }


def product(sku: str, inventory: int) -> dict[str, Any]:
    return {
        "type": "product.upserted",
        "product": {
            "sku": sku,
            "handle": sku.lower(),
            "title": sku.title(),
            "price_cents": 25000,
            "inventory": inventory,
            "url": f"https://shop.example/p/{sku.lower()}",
        },
    }


def order_placed(number: str, who: str) -> dict[str, Any]:
    return {
        "type": "order.placed",
        "customer": customer(who),
        "order": {
            "number": number,
            "lines": [{"sku": SOFA, "quantity": 1, "price_cents": 25000}],
            "total_cents": 25000,
        },
    }


def order_delayed(number: str) -> dict[str, Any]:
    later = datetime.now(UTC) + timedelta(days=10)
    return {
        "type": "order.delayed",
        "order_number": number,
        "reason": f"a late container for {number}",
        "ship_from": later.isoformat(),
        "ship_to": (later + timedelta(days=4)).isoformat(),
        "fix": "we added a second supplier",
    }


def restock_signup(who: str) -> dict[str, Any]:
    return {
        "type": "restock.signup",
        "customer": customer(who),
        "sku": LAMP,
        "channels": ["email"],
        "consent_wording": "Email me when it is back",
    }


def inventory_changed(quantity: int) -> dict[str, Any]:
    return {"type": "inventory.changed", "sku": LAMP, "quantity": quantity}


def delayed_order(store: Store, number: str) -> Expected:
    """``order.placed`` then ``order.delayed`` for one order, back to back (the second is
    posted the moment the first is accepted): the apology must go out once."""
    who = f"buyer{number}"
    store.post(f"placed-{number}", order_placed(number, who))
    store.post(f"delayed-{number}", order_delayed(number))
    return Expected(f"{who}@topology.example", "apology_email", f"delayed-{number}", number)

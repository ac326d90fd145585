"""Give the running flow run a name and tags ops can search for: ``restock · 12 due``
or ``delay_apology · order:5001``, tagged ``journey:restock``, ``version:3f2a…``,
``channel:sms``; an event run is named after its subject from the start (``order #5001 ·
order.delayed``, so a run that fails before it is renamed still says what it was about) and
tagged ``order:5001`` / ``customer:<store id>`` / ``sku:…`` / ``cart:…``. Tags go on the flow
run (one API call), never on per-customer task runs (task tags take concurrency leases:
0.4–0.8 s each); flow-run tags take none. Never an email address or a phone number."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from journeykit.foundation.models import Cart, Customer, Order

log = logging.getLogger(__name__)


def run_tags(
    journeys: Iterable[str] = (), versions: Iterable[str] = (), channels: Iterable[str] = ()
) -> list[str]:
    """``journey:x``, ``version:<8 hex>``, ``channel:email`` tags, sorted, no duplicates."""
    tags = {f"journey:{j}" for j in journeys}
    tags |= {f"version:{v[:8]}" for v in versions}
    tags |= {f"channel:{c}" for c in channels}
    return sorted(tags)


# (field of the event, field of a nested object, kind): what an event is about, as ops know it
_SUBJECT_FIELDS = (
    ("order_number", "number", "order"),
    ("sku", "sku", "sku"),
    ("cart_token", "token", "cart"),
)


def subject_parts(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``[("order", "5001"), ("customer", "c-7")]``: the order, SKU or cart the event names,
    then its customer (the store's id, from ``customer.id``); no addresses, no numbers."""
    parts: list[tuple[str, str]] = []
    for field, nested, kind in _SUBJECT_FIELDS:
        value = event.get(field)
        inner = event.get(kind)
        if not value and isinstance(inner, Mapping):
            value = inner.get(nested) or inner.get("id")
        if value not in (None, ""):
            parts.append((kind, str(value)))
    customer = event.get("customer")
    if isinstance(customer, Mapping) and customer.get("id") not in (None, ""):
        parts.append(("customer", str(customer["id"])))
    elif event.get("customer_id") not in (None, ""):
        parts.append(("customer", str(event["customer_id"])))
    return parts


def subject_tags(event: Mapping[str, Any], engine: Engine | None = None) -> list[str]:
    """``order:5001``, ``customer:c-7``: filter the runs list by them (tags are short). With
    ``engine``, an event that names only its order or cart is tagged with the customer of
    that order or cart too (one indexed read), so searching a customer finds all its runs."""
    parts = subject_parts(event)
    if engine is not None and not any(kind == "customer" for kind, _ in parts):
        parts += [("customer", c) for c in _customer_of(engine, dict(parts))]
    return sorted({f"{kind}:{value}"[:100] for kind, value in parts})


def _customer_of(engine: Engine, parts: dict[str, str]) -> list[str]:
    """The store's id of the customer of the order or cart, if we know it."""
    if "order" in parts:
        query = select(Customer.external_id).join(Order, col(Order.customer_id) == Customer.id)
        query = query.where(Order.number == parts["order"])
    elif "cart" in parts:
        query = select(Customer.external_id).join(Cart, col(Cart.customer_id) == Customer.id)
        query = query.where(Cart.token == parts["cart"])
    else:
        return []
    try:
        with Session(engine) as session:
            return list(session.exec(query).all())[:1]
    except Exception as exc:  # a tag is for people; never fail a run over it
        log.warning("could not read the customer of %s: %s", parts, exc)
        return []


def event_run_name(event: Mapping[str, Any]) -> str:
    """``order #5001 · order.delayed``; ``customer c-7 · restock.signup``; else the type."""
    kind = str(event.get("type") or "event")
    parts = subject_parts(event)
    if not parts:
        return f"event · {kind}"
    what, value = parts[0]
    return f"{what} #{value} · {kind}" if what == "order" else f"{what} {value} · {kind}"


def current_event_run_name() -> str:
    """For ``@flow(flow_run_name=...)`` of the event flow: named from its ``event``
    parameter when the run starts (before anything can fail)."""
    try:
        event = flow_run.get_parameters().get("event")
    except Exception:  # never fail a run over its name
        event = None
    return event_run_name(event) if isinstance(event, Mapping) else "event"


# the tags this process last gave a flow run (its id, the tags): a label is one API call,
# never a read first (each request costs 0.1–0.3 s of a loaded server)
_labelled: dict[str, frozenset[str]] = {}


def label_current_run(name: str | None = None, tags: Iterable[str] = ()) -> None:
    """Rename the current flow run and add ``tags`` to the ones it has (those it started
    with, from the run's context, and those given here before); nothing new, no call."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    known = _labelled.get(run_id)
    if known is None:
        known = frozenset(flow_run.get_tags())
    merged = known | set(tags)
    if name is None and merged == known:
        return
    try:
        with get_client(sync_client=True) as client:
            new_tags = sorted(merged) if merged != known else None
            client.update_flow_run(UUID(str(run_id)), name=name, tags=new_tags)
        _labelled.pop(run_id, None)
        _labelled[run_id] = merged
        while len(_labelled) > 256:  # a long-lived process: forget the oldest runs
            del _labelled[next(iter(_labelled))]
    except Exception as exc:  # the label is for people; never fail a batch over it
        log.warning("could not label flow run %s: %s", run_id, exc)


def rename_current_run(name: str) -> None:
    label_current_run(name)

"""Give the running flow run a name and tags ops can search for: ``restock · 12 due``
or ``delay_apology · order:5001``, tagged ``journey:restock``, ``version:3f2a…``,
``channel:sms``; an event run is named after its subject from the start (``order #5001 ·
order.delayed``, so a run that fails before it is renamed still says what it was about) and
tagged ``order:5001`` / ``customer:<store id>`` / ``sku:…`` / ``cart:…``. Tags go on the flow
run (one API call), never on per-customer task runs (task tags take concurrency leases:
0.4–0.8 s each); flow-run tags take none. Never an email address or a phone number."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextvars import copy_context
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.runtime import flow_run
from prefect.settings import PREFECT_API_URL
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
_labelling_lock = threading.Lock()
# labels are sent by one thread of their own, in the order they were given: a batch does not
# wait for the Prefect server (0.05 s idle, seconds when it is loaded) before it sends its
# messages; ``labels_sent()`` waits for them at the end of the run
_labeller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-labels")
_pending: dict[str, list[Future[None]]] = {}


def label_current_run(name: str | None = None, tags: Iterable[str] = ()) -> None:
    """Rename the current flow run and add ``tags`` to the ones it has (those it started
    with, from the run's context, and those given here before); nothing new, no call. The
    call is sent in the background, in order; ``labels_sent()`` waits for this run's."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    with _labelling_lock:
        known = _labelled.get(run_id)
        if known is None:
            known = frozenset(flow_run.get_tags())
        merged = known | set(tags)
        if name is None and merged == known:
            return
        new_tags = sorted(merged) if merged != known else None
        _labelled.pop(run_id, None)
        _labelled[run_id] = merged
        while len(_labelled) > 256:  # a long-lived process: forget the oldest runs
            del _labelled[next(iter(_labelled))]
        # in the caller's context: its Prefect settings (a test's temporary API URL)
        sent = _labeller.submit(copy_context().run, _send_label, str(run_id), name, new_tags)
        _pending.setdefault(str(run_id), []).append(sent)
        if len(_pending) > 256:  # runs that never waited for theirs (they failed first)
            for done in [r for r, fs in _pending.items() if all(f.done() for f in fs)]:
                del _pending[done]


# the labeller thread's client, kept between calls (a client costs ~25 ms of CPU for its TLS
# context alone), for the API it was made for; dropped after a failed call
_client: tuple[str | None, SyncPrefectClient] | None = None
LABELLER_HTTPX = {"timeout": 10.0}


def _labeller_client() -> SyncPrefectClient:
    global _client
    api = PREFECT_API_URL.value()
    if _client is not None and _client[0] != api:
        _drop_labeller_client()
    if _client is None:
        # its own client, never the batch's shared one (another thread's, closed with it)
        client = get_client(sync_client=True, httpx_settings=LABELLER_HTTPX)
        client.__enter__()
        _client = (api, client)
    return _client[1]


def _drop_labeller_client() -> None:
    global _client
    if _client is not None:
        with contextlib.suppress(Exception):  # closing a client of a server that went away
            _client[1].__exit__(None, None, None)
    _client = None


def _send_label(run_id: str, name: str | None, tags: list[str] | None) -> None:
    try:
        _labeller_client().update_flow_run(UUID(run_id), name=name, tags=tags)
    except Exception as exc:  # the label is for people; never fail a batch over it
        _drop_labeller_client()
        log.warning("could not label flow run %s: %s", run_id, exc)


def labels_sent(timeout_s: float = 30.0) -> None:
    """Wait (bounded) until the labels given to the current flow run have been sent: a run
    ends named and tagged as it should be."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    with _labelling_lock:
        pending = _pending.pop(str(run_id), [])
    wait(pending, timeout=timeout_s)


def rename_current_run(name: str) -> None:
    label_current_run(name)

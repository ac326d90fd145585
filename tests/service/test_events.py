"""The event inbox through journeykit.service.events on a real database (SQLite, and
PostgreSQL where the lock matters): events of one subject apply in acceptance order whatever
order the runs start in, an event about a subject not known yet waits and is retried with
backoff, one that fails for good is listed and replayed, concurrent appliers apply each
event once and in order, and a restock signup accepted before the restock is in its wave."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlmodel import Session, col, select

from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import DomainEvent, Enrollment, InboxEvent
from journeykit.foundation.settings import Settings
from journeykit.service.event_inbox import (
    MAX_ATTEMPTS,
    Applied,
    apply_one,
    apply_pending,
    failed_events,
    replay,
    retry_delay,
)
from journeykit.service.events import accept
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock

ROOT = Path(__file__).parents[2]


def product(sku: str = "TEE-M", inventory: int = 0) -> dict[str, Any]:
    return {
        "type": "product.upserted",
        "product": {
            "sku": sku,
            "handle": sku.lower(),
            "title": "Tee",
            "url": f"https://shop.example/p/{sku.lower()}",
            "price_cents": 3200,
            "inventory": inventory,
        },
    }


def placed(number: str, sku: str = "TEE-M") -> dict[str, Any]:
    return {
        "type": "order.placed",
        "customer": {
            "id": f"C-{number}",
            "email": f"c{number}@example.com",
            "timezone": "UTC",
            "consent": {"email": True},
        },
        "order": {"number": number, "lines": [{"sku": sku, "quantity": 1}], "total_cents": 3200},
    }


def delayed(number: str) -> dict[str, Any]:
    return {"type": "order.delayed", "order_number": number, "reason": "The carrier slipped."}


def shipped(number: str) -> dict[str, Any]:
    return {"type": "order.shipped", "order_number": number, "tracking_number": "1Z"}


def signup(customer: str, sku: str = "TEE-M") -> dict[str, Any]:
    return {
        "type": "restock.signup",
        "customer": {
            "id": customer,
            "email": f"{customer}@example.com",
            "consent": {"email": True},
        },
        "sku": sku,
        "channels": ["email"],
    }


DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASES)
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Runtime]:
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite:///{tmp_path}/inbox.db"
    upgrade(url)
    settings = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    built = build_runtime(
        settings,
        engine=make_engine(url),
        clock=VirtualClock(pendulum.datetime(2026, 3, 2, 15, tz="UTC")),
        owner="inbox-test",
    )
    yield built
    built.engine.dispose()


def stored(runtime: Runtime, payload: dict[str, Any], key: str) -> int:
    """Accept an event (as a door does) and return its inbox id."""
    with session_scope(runtime.engine) as session:
        now = runtime.clock.now()
        return accept(session, payload=payload, key=key, source="test", now=now).inbox_id


def applied_types(runtime: Runtime) -> list[str]:
    with Session(runtime.engine) as session:
        query = select(DomainEvent.type).order_by(col(DomainEvent.id))
        return list(session.exec(query).all())


def statuses(runtime: Runtime) -> dict[str, str]:
    with Session(runtime.engine) as session:
        rows = session.exec(select(InboxEvent).order_by(col(InboxEvent.id))).all()
        return {row.key: row.status for row in rows}


def test_one_subject_applies_in_acceptance_order_whatever_run_starts_first(
    runtime: Runtime,
) -> None:
    stored(runtime, product(), "p")
    assert len(apply_pending(runtime, subjects=["sku:TEE-M"]).applied) == 1
    stored(runtime, product("HAT-1"), "p2")
    first = stored(runtime, placed("5001"), "o1")
    second = stored(runtime, delayed("5001"), "o2")
    third = stored(runtime, shipped("5001"), "o3")
    done = Applied()
    # the delayed event's run starts first: not its turn while order.placed is pending
    assert apply_one(runtime, second, done) is False
    assert apply_one(runtime, third, done) is False
    assert done.applied == [] and done.waiting == {}
    result = apply_pending(runtime, subjects=["order:5001"])
    assert result.applied == [first, second, third]
    assert applied_types(runtime)[1:] == ["order.placed", "order.delayed", "order.shipped"]
    assert result.touched  # the delay apology enrolled, for the caller to advance
    # the product's subject was not asked for: it is still pending, for the sweep
    assert statuses(runtime)["p2"] == "pending"


def test_an_event_about_an_unknown_order_waits_with_backoff_then_applies(
    runtime: Runtime,
) -> None:
    early = stored(runtime, delayed("6001"), "d")
    result = apply_pending(runtime)
    assert list(result.waiting) == [early] and "unknown order" in result.waiting[early]
    with Session(runtime.engine) as session:
        row = session.get(InboxEvent, early)
        assert row is not None and row.status == "waiting" and row.attempts == 1
        assert row.next_try_at == runtime.clock.now() + retry_delay(1)
    assert apply_pending(runtime).waiting == {}  # not due yet: not tried again
    # the order arrives (accepted later): a waiting event does not hold it back, and its
    # subject being known makes the waiting one due at once
    stored(runtime, product(), "p")
    stored(runtime, placed("6001"), "o")
    after = apply_pending(runtime)
    assert early in after.applied and after.waiting == {}
    assert applied_types(runtime) == ["product.upserted", "order.placed", "order.delayed"]


def test_failed_for_good_is_listed_and_replayed(runtime: Runtime) -> None:
    lost = stored(runtime, delayed("7001"), "d")
    for _ in range(MAX_ATTEMPTS):
        apply_pending(runtime)
        runtime.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
    with Session(runtime.engine) as session:
        [failed] = failed_events(session)
    assert failed.id == lost and failed.attempts == MAX_ATTEMPTS
    assert "unknown order" in (failed.last_error or "")
    assert apply_pending(runtime).applied == []  # failed stays failed
    stored(runtime, product(), "p")
    stored(runtime, placed("7001"), "o")
    apply_pending(runtime)
    assert statuses(runtime)["d"] == "failed"
    assert replay(runtime, lost).applied == [lost]
    assert statuses(runtime)["d"] == "applied"
    with pytest.raises(LookupError, match="applied already"):
        replay(runtime, lost)


def test_a_key_is_stored_once(runtime: Runtime) -> None:
    with session_scope(runtime.engine) as session:
        now = runtime.clock.now()
        one = accept(session, payload=product(), key="same", source="test", now=now)
        two = accept(session, payload=product(), key="same", source="test", now=now)
    assert not one.duplicate and two.duplicate and one.inbox_id == two.inbox_id


def test_concurrent_appliers_apply_each_event_once_in_order(runtime: Runtime) -> None:
    stored(runtime, product(), "p")
    apply_pending(runtime)
    numbers = [str(8000 + n) for n in range(12)]
    for number in numbers:  # the same subject back to back, many subjects at once
        stored(runtime, placed(number), f"{number}:placed")
        stored(runtime, delayed(number), f"{number}:delayed")
        stored(runtime, shipped(number), f"{number}:shipped")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: apply_pending(runtime), range(4)))
    applied = [inbox_id for result in results for inbox_id in result.applied]
    assert len(applied) == len(set(applied)) == 3 * len(numbers)
    assert all(status == "applied" for status in statuses(runtime).values())
    with Session(runtime.engine) as session:
        rows = session.exec(select(DomainEvent).order_by(col(DomainEvent.id))).all()
    by_order: dict[str, list[str]] = {}
    for row in rows:
        if row.type != "product.upserted":
            by_order.setdefault(str(row.subject_key), []).append(row.type)
    assert len(by_order) == len(numbers)
    assert all(
        types == ["order.placed", "order.delayed", "order.shipped"] for types in by_order.values()
    ), by_order


def test_a_signup_accepted_before_the_restock_is_in_its_wave(runtime: Runtime) -> None:
    stored(runtime, product("TEE-M", inventory=0), "p")
    apply_pending(runtime)
    stored(runtime, signup("ann"), "s1")
    restock = stored(runtime, {"type": "inventory.changed", "sku": "TEE-M", "quantity": 10}, "r")
    stored(runtime, signup("bob"), "s2")  # signs up while the restock is being applied
    # the restock's run starts first: it waits for Ann's signup
    assert apply_one(runtime, restock, Applied()) is False
    result = apply_pending(runtime, subjects=["sku:TEE-M"])
    assert applied_types(runtime)[1:] == ["restock.signup", "inventory.changed", "restock.signup"]
    with Session(runtime.engine) as session:
        enrolled = session.exec(select(Enrollment).where(Enrollment.journey == "restock")).all()
    assert len(enrolled) == 1 and enrolled[0].id in result.enrolled  # Ann, in this wave

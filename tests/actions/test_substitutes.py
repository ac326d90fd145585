"""D4: substitutes are relevant (same product first, then same category, close in price,
in stock) and never from another category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlmodel import Session, select

from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import ingest_event
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Order, Variant
from journeykit.store.substitutes import find_substitute, partial_split, sizes, variant_options

NOW = pendulum.datetime(2026, 1, 5, 9, tz="UTC")


def product(sku: str, handle: str, category: str, price: int, inventory: int) -> dict[str, Any]:
    return {
        "type": "product.upserted",
        "product": {
            "sku": sku,
            "handle": handle,
            "title": handle.replace("-", " ").title(),
            "category": category,
            "price_cents": price,
            "inventory": inventory,
        },
    }


@pytest.fixture
def session(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path}/subs.db"
    upgrade(url)
    engine = make_engine(url)
    catalog = [
        product("AV-GOLD", "aviator", "sunglasses", 14900, 0),
        product("AV-BLACK", "aviator", "sunglasses", 14900, 3),
        product("ROUND", "round", "sunglasses", 12900, 25),
        product("CHEAP", "kids-shades", "sunglasses", 1900, 99),
        product("SWIM", "swimsuit", "swimwear", 14900, 50),
        product("TEE", "tee", "tops", 3200, 60),
    ]
    with session_scope(engine) as s:
        for i, payload in enumerate(catalog):
            ingest_event(s, book=JourneyBook(), now=NOW, payload=payload, key=f"p{i}")
    with Session(engine) as s:
        yield s
    engine.dispose()


def variant(session: Session, sku: str) -> Variant:
    return session.exec(select(Variant).where(Variant.sku == sku)).one()


def test_same_product_other_variant_comes_first(session: Session) -> None:
    found = find_substitute(session, variant(session, "AV-GOLD"))
    assert found is not None and found.sku == "AV-BLACK"


def test_then_same_category_close_in_price_never_another_category(session: Session) -> None:
    black = variant(session, "AV-BLACK")
    black.inventory = 0
    session.add(black)
    session.flush()
    found = find_substitute(session, variant(session, "AV-GOLD"))
    assert found is not None and found.sku == "ROUND"  # not the swimsuit at the same price
    round_ = variant(session, "ROUND")
    round_.inventory = 0
    session.add(round_)
    session.flush()
    assert find_substitute(session, variant(session, "AV-GOLD")) is None  # kids' shades: too cheap


def test_partial_split_needs_both_parts(session: Session) -> None:
    payload = {
        "type": "order.placed",
        "customer": {"id": "C-1", "email": "a@example.com"},
        "order": {"number": "1", "lines": [{"sku": "TEE"}, {"sku": "AV-GOLD"}]},
    }
    ingest_event(session, book=JourneyBook(), now=NOW, payload=payload, key="o1")
    order = session.exec(select(Order).where(Order.number == "1")).one()
    assert partial_split(session, order) == {"now": ["Tee"], "later": ["Aviator"]}


def parka(sku: str, size: str, colour: str, inventory: int) -> dict[str, Any]:
    payload = product(sku, "parka", "outerwear", 29900, inventory)
    payload["product"]["variant_title"] = f"{colour} / {size}"
    return payload


def add(session: Session, *payloads: dict[str, Any]) -> None:
    for i, payload in enumerate(payloads):
        ingest_event(session, book=JourneyBook(), now=NOW, payload=payload, key=f"x{i}")
    session.flush()


def test_size_l_parka_never_gets_an_m(session: Session) -> None:
    add(
        session,
        parka("PK-NAVY-L", "L", "Navy", 0),
        parka("PK-NAVY-M", "M", "Navy", 40),
        parka("PK-RED-M", "M", "Red", 40),
    )
    assert find_substitute(session, variant(session, "PK-NAVY-L")) is None


def test_same_product_may_change_colour_never_size(session: Session) -> None:
    add(
        session,
        parka("PK-NAVY-L", "L", "Navy", 0),
        parka("PK-NAVY-M", "M", "Navy", 40),
        parka("PK-RED-L", "L", "Red", 40),
    )
    found = find_substitute(session, variant(session, "PK-NAVY-L"))
    assert found is not None and found.sku == "PK-RED-L"


def test_another_product_keeps_size_and_colour_and_is_in_stock(session: Session) -> None:
    add(
        session,
        parka("PK-NAVY-L", "L", "Navy", 0),
        parka("PK-NAVY-M", "M", "Navy", 40),
        product("ANORAK-BLACK-L", "anorak", "outerwear", 27900, 9),
        product("ANORAK-NAVY-L", "anorak", "outerwear", 28900, 5),
    )
    for sku, title in (("ANORAK-BLACK-L", "Black / L"), ("ANORAK-NAVY-L", "Navy / L")):
        other = variant(session, sku)
        other.title = title
        session.add(other)
    session.flush()
    found = find_substitute(session, variant(session, "PK-NAVY-L"))
    assert found is not None and found.sku == "ANORAK-NAVY-L"  # not black, not M
    navy = variant(session, "ANORAK-NAVY-L")
    navy.inventory = 0
    session.add(navy)
    session.flush()
    assert find_substitute(session, variant(session, "PK-NAVY-L")) is None


@pytest.mark.parametrize(
    ("title", "size"),
    [
        ("Navy / L", {"l"}),
        ("XXL", {"xxl"}),
        ("Black / 32", {"32"}),
        ("EU 42 / Tan", {"eu 42"}),
        ("Gold / Green lens", set()),
    ],
)
def test_sizes_are_read_from_the_variant_title(title: str, size: set[str]) -> None:
    assert sizes(variant_options(Variant(sku="x", product_id=1, title=title))) == size

"""The chaos wave seeded in bulk (Core INSERTs for customers, consent and sign-ups) leaves
the same store rows and, after the real ``inventory.changed`` events, the same enrollments
as one ``restock.signup`` event per customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from journeykit_rigs.chaos.workload import CUSTOMERS_PER_PRODUCT, seed_restock_wave
from sqlalchemy import Engine, Table, select

from journeykit.engine.book import JourneyBook
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.models import Consent, Customer, Enrollment, RestockSignup
from journeykit.foundation.settings import Settings

CUSTOMERS = 20
IGNORED = {"updated_at", "entered_at"}  # identical here too, but not part of the claim


def _seeded(tmp_path: Path, name: str, *, bulk: bool, customers: int = CUSTOMERS) -> Engine:
    url = f"sqlite:///{tmp_path}/{name}.db"
    upgrade(url)
    engine = make_engine(url)
    book = JourneyBook.from_dir(Settings().journeys_dir)
    seed_restock_wave(engine, book, customers, bulk=bulk)
    return engine


def _rows(engine: Engine, model: Any) -> list[dict[str, Any]]:
    table: Table = model.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).mappings().all()
    return [{k: v for k, v in row.items() if k not in IGNORED} for row in rows]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Engine]:
    tmp = tmp_path_factory.mktemp("seed")
    return _seeded(tmp, "events", bulk=False), _seeded(tmp, "bulk", bulk=True)


@pytest.mark.parametrize("model", [Customer, Consent, RestockSignup])
def test_bulk_seed_writes_the_rows_the_events_would(seeded: tuple[Engine, Engine], model) -> None:
    by_events, in_bulk = seeded
    expected = _rows(by_events, model)
    assert len(expected) >= CUSTOMERS
    assert _rows(in_bulk, model) == expected


def test_bulk_seed_yields_the_same_enrollments(seeded: tuple[Engine, Engine]) -> None:
    by_events, in_bulk = seeded
    expected = _rows(by_events, Enrollment)
    assert len(expected) == CUSTOMERS
    assert {e["subject_key"].split("|customer:")[1] for e in expected} == {
        f"CHAOS-{i}" for i in range(CUSTOMERS)
    }
    assert _rows(in_bulk, Enrollment) == expected


def test_every_product_gets_its_share(tmp_path: Path) -> None:
    engine = _seeded(tmp_path, "two", bulk=True, customers=CUSTOMERS_PER_PRODUCT + 3)
    subjects = [e["subject_key"].split("|")[0] for e in _rows(engine, Enrollment)]
    assert len(subjects) == CUSTOMERS_PER_PRODUCT + 3
    assert subjects.count("sku:CHAOS-SKU-0") == subjects.count("sku:CHAOS-SKU-1") + 1


def test_bulk_seed_refuses_an_unknown_sku(tmp_path: Path) -> None:
    from journeykit_rigs.chaos.bulk_seed import insert_signups
    from journeykit_rigs.chaos.workload import START

    url = f"sqlite:///{tmp_path}/x.db"
    upgrade(url)
    engine = make_engine(url)
    with pytest.raises(LookupError, match="NOPE"):
        insert_signups(engine, [{"id": "C-1"}], ["NOPE"], START)
    assert _rows(engine, Customer) == []

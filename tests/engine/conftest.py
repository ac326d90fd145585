"""An engine on a real database migrated with Alembic — a SQLite file, and a throwaway
PostgreSQL database (the ``harness`` fixture runs each test on both) — a virtual clock, and
small journeys with their own templates in ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlmodel import Session, select

from journeykit.engine.advance import BatchReport, advance, claim_due
from journeykit.engine.book import JourneyBook
from journeykit.engine.ingest import Ingested, ingest_event, record_action
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Customer
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import VirtualClock

LAYOUT = """<html lang="{{ locale }}"><body><h1>{{ store.name }}</h1>{% block body %}{% endblock %}
<span class="pre">{% block preheader %}{% endblock %}</span></body></html>"""


def write_templates(root: Path, templates: dict[str, str]) -> None:
    (root / "_layouts").mkdir(parents=True, exist_ok=True)
    (root / "_layouts" / "email.html").write_text(LAYOUT)
    for name, text in templates.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def email(subject: str, body: str) -> str:
    return (
        '{% extends "_layouts/email.html" %}{% block subject %}'
        + subject
        + "{% endblock %}{% block body %}"
        + body
        + "{% endblock %}"
    )


class Harness:
    """Drive the engine like the sweep does, on a virtual clock."""

    def __init__(
        self,
        tmp_path: Path,
        journeys: list[str],
        templates: dict[str, str],
        url: str | None = None,
    ) -> None:
        write_templates(tmp_path / "templates", templates)
        url = url or f"sqlite:///{tmp_path}/engine.db"
        upgrade(url)
        self.engine = make_engine(url)
        self.clock = VirtualClock(pendulum.datetime(2026, 3, 2, 9, tz="UTC"))  # a Monday
        self.settings = Settings().with_changes(
            {"templates.dir": tmp_path / "templates", "web.signing_secret": "s3cret"}
        )
        self.runtime = build_runtime(
            self.settings,
            engine=self.engine,
            clock=self.clock,
            book=JourneyBook.from_sources(*journeys),
            owner="test",
        )
        self.keys = 0

    def emit(self, payload: dict[str, Any], key: str | None = None) -> Ingested:
        self.keys += 1
        with session_scope(self.engine) as session:
            return ingest_event(
                session,
                book=self.runtime.book,
                now=self.clock.now(),
                payload=payload,
                key=key or f"k{self.keys}",
                registry=self.runtime.registry,
            )

    def act(self, customer_external_id: str, name: str, key: str | None = None) -> Ingested:
        self.keys += 1
        with session_scope(self.engine) as session:
            customer = session.exec(
                select(Customer).where(Customer.external_id == customer_external_id)
            ).one()
            return record_action(
                session,
                now=self.clock.now(),
                customer_id=customer.id,  # type: ignore[arg-type]
                name=name,
                key=key or f"a{self.keys}",
            )

    def sweep(self) -> BatchReport:
        return advance(self.runtime, claim_due(self.runtime, limit=1000))

    def later(self, **kwargs: float) -> BatchReport:
        self.clock.advance(pendulum.duration(**kwargs))
        return self.sweep()

    def session(self) -> Session:
        return Session(self.engine)


DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database a harness runs on: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path}/engine.db"


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[Callable[..., Harness]]:
    built: list[Harness] = []

    def build(journeys: list[str], templates: dict[str, str]) -> Harness:
        built.append(Harness(tmp_path, journeys, templates, url=database_url))
        return built[-1]

    yield build
    for h in built:
        h.engine.dispose()


PRODUCT = {
    "type": "product.upserted",
    "product": {
        "sku": "SOFA-1",
        "handle": "sofa",
        "title": "Sofa",
        "price_cents": 50000,
        "inventory": 0,
    },
}


def order_placed(number: str = "1001", customer: str = "C-1", **order: Any) -> dict[str, Any]:
    return {
        "type": "order.placed",
        "customer": {
            "id": customer,
            "email": f"{customer.lower()}@example.com",
            "phone": "+14155550123",
            "timezone": "America/New_York",
            "first_name": "Ana",
            "consent": {"email": True, "sms": True},
        },
        "order": {"number": number, "lines": [{"sku": "SOFA-1", "quantity": 1}], **order},
    }

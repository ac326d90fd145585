"""The engine renders a send group's messages from shapes (``render_email`` and
``render_sms`` with ``reuse_shape``): the outbox must hold the very bytes the plain render
per message gives. The restock fan-out runs twice on fresh databases — once as shipped, once
with a renderer that renders every message directly — and every outbox row is compared,
with customers whose names, locales and countries take the shaped and the direct paths."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from journeykit_rigs.bench.runtime import bench_runtime, database_url
from journeykit_rigs.bench.seed import SKU, seed_customers, seed_variant
from sqlalchemy import update
from sqlmodel import Session, col, select

from journeykit.engine.advance import advance, claim_due
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Customer, OutboxMessage
from journeykit.templating.render import RenderedEmail, RenderedSms, TemplateRenderer

SUBSCRIBERS = 40
# (first name, locale, country): plain values fill slots; the others are rendered directly
PEOPLE = [
    ("Ana & Bo", "en", None),
    ("", "en", "US"),
    ("민준", "ko", "KR"),
    ("Zoë  Two-Spaces", "en-GB", "GB"),
    ("<b>Eve</b>", "ja", "JP"),
    ("mailto:x", "en", None),
    ("Ann Lee", "ko-KR", "KR"),
    ("ひな", "ja-JP", "JP"),
    ("O'Brien", "en", "US"),
    ("amp", "en", "US"),
]


class DirectRenderer(TemplateRenderer):
    """Renders every message directly: what the outbox held before shapes."""

    def render_email(
        self,
        name: str,
        locale: str | None,
        context: dict[str, Any],
        *,
        reuse_shape: bool = False,
    ) -> RenderedEmail:
        return super().render_email(name, locale, context)

    def render_sms(
        self,
        name: str,
        locale: str | None,
        context: dict[str, Any],
        *,
        reuse_shape: bool = False,
    ) -> RenderedSms:
        return super().render_sms(name, locale, context)


def _outbox(tmp: Path, *, direct: bool) -> tuple[list[tuple[Any, ...]], Runtime]:
    runtime = bench_runtime(database_url(tmp, None))
    if direct:
        runtime.renderer = DirectRenderer(runtime.settings.templates.dir)
    now = runtime.clock.now()
    seed_variant(runtime.engine, now, inventory=0)
    ids = list(seed_customers(runtime.engine, now, SUBSCRIBERS, variant_id=1))
    with runtime.engine.begin() as conn:
        for n, cid in enumerate(ids[: len(PEOPLE) * 2]):
            first_name, locale, country = PEOPLE[n % len(PEOPLE)]
            conn.execute(
                update(Customer)
                .where(col(Customer.id) == cid)
                .values(first_name=first_name, locale=locale, country=country)
            )
    journey = runtime.book.get("restock")
    quantity = math.ceil(SUBSCRIBERS / int(journey.settings.get("subscribers_per_unit", 3)))
    with session_scope(runtime.engine) as session:
        ingest_event(
            session,
            book=runtime.book,
            now=now,
            payload={"type": "inventory.changed", "sku": SKU, "quantity": quantity},
            key="restock",
            registry=runtime.registry,
        )
    while due := claim_due(runtime, limit=500):
        advance(runtime, due)
    with Session(runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.key))).all()
        found = [
            (
                r.key,
                r.channel,
                r.to_address,
                r.status,
                r.due_at,
                r.expires_at,
                r.content,
                r.decisions,
                r.error,
            )
            for r in rows
        ]
    runtime.engine.dispose()
    return found, runtime


def test_shaped_outbox_is_the_direct_one_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "shaped").mkdir()
    (tmp_path / "direct").mkdir()
    shaped, runtime = _outbox(tmp_path / "shaped", direct=False)
    direct, _ = _outbox(tmp_path / "direct", direct=True)
    assert len(shaped) == 2 * SUBSCRIBERS
    assert shaped == direct
    renderer = runtime.get_renderer()
    used = {name: (p.shapes, p.fills) for name, p in renderer._plans.items() if p.plan}
    assert any(fills > shapes for shapes, fills in used.values()), used  # shapes were reused

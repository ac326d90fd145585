"""Two versions of a small journey and a database where one customer waits in version 1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.conftest import PRODUCT, Harness, email, order_placed

V1 = """
name: care
trigger: {event: order.placed}
subject: order
category: transactional
nodes:
  - {id: receipt, type: send, channel: email, template: t/receipt, next: pause}
  - {id: pause, type: wait, duration: 3d, next: ask}
  - {id: ask, type: send, channel: email, template: t/ask, next: done}
  - {id: done, type: exit}
"""

# v2: the wait is renamed and shortened, the ask is replaced by a new message
V2 = """
name: care
trigger: {event: order.placed}
subject: order
category: transactional
nodes:
  - {id: receipt, type: send, channel: email, template: t/receipt, next: settle}
  - {id: settle, type: wait, duration: 2d, next: ask_again}
  - {id: ask_again, type: send, channel: email, template: t/ask2, next: done}
  - {id: done, type: exit, reason: finished}
"""

TEMPLATES = {
    "t/receipt.en.email.html": email("Order {{ order.number }}", "<p>Thanks</p>"),
    "t/ask.en.email.html": email("How is it?", "<p>v1 ask</p>"),
    "t/ask2.en.email.html": email("Tell us", "<p>v2 ask</p>"),
}


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def waiting(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """A customer enrolled on V1, waiting at ``pause``; V2 snapshotted but not started. On
    SQLite and on PostgreSQL."""
    url = str(request.getfixturevalue("postgres_url")) if request.param == "postgresql" else None
    h = Harness(tmp_path, [V1], TEMPLATES, url=url)
    h.emit(PRODUCT)
    h.emit(order_placed("1001"))
    h.sweep()
    h.v1 = h.runtime.book.version("care")  # type: ignore[attr-defined]
    from journeykit.engine.book import JourneyBook
    from journeykit.foundation.db import session_scope

    v2_book = JourneyBook.from_sources(V2)
    with session_scope(h.engine) as session:
        h.v2 = v2_book.snapshot(session, "care", h.clock.now())  # type: ignore[attr-defined]
    h.url = h.engine.url.render_as_string(hide_password=False)  # type: ignore[attr-defined]
    yield h
    h.engine.dispose()

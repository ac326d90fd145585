"""The default store keeps accepted messages on disk: the sandbox's memory does not grow with
the audience (a fan-out of 50,000 subscribers kept ~1 GB in memory before)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from journeykit.sandbox.store import MessageStore, StoredMessage

HTML = "<p>" + "Back in stock. " * 3_000 + "</p>"  # ~45 KB, an email's HTML
MESSAGES = 600  # ~27 MB of HTML


def resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def fill(store: MessageStore) -> float:
    before = resident_mb()
    for i in range(MESSAGES):
        m = StoredMessage(
            id=f"m{i}",
            request_id="r",
            provider="sendgrid",
            to=f"c{i}@example.com",
            received_at=datetime.now(UTC),
            html=HTML + str(i),
        )
        store.add([m])
    return resident_mb() - before


def fresh_growth(*args: str) -> float:
    """``fill`` in a new interpreter (a test worker's heap has free pages from earlier tests
    that a store's rows would reuse unseen): resident MB grown, for MessageStore(*args)."""
    script = (
        "import sys; from tests.sandbox.test_store_memory import MessageStore, fill, "
        "MESSAGES, HTML\n"
        "store = MessageStore(*sys.argv[1:])\n"
        "grown = fill(store)\n"
        "last = store.get(f'm{MESSAGES - 1}')\n"
        "assert store.count() == MESSAGES and last is not None and last.html == HTML + '599'\n"
        "store.close()\n"
        "print(grown)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=root,
        timeout=120, check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def test_the_default_store_keeps_messages_out_of_memory() -> None:
    grown = fresh_growth()
    assert grown < 10, f"{grown:.1f} MB more resident for ~27 MB of messages"


def test_an_in_memory_store_still_holds_them_in_memory() -> None:
    assert fresh_growth(":memory:") > 20

"""The checker finds what it is there to find: a clean trial has no findings; then each
kind of damage planted in its database or provider store (a second copy at the provider,
a row left in ``sending``, a message that failed, an enrollment left behind, a history that
stops short) is reported under its own name."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest
from journeykit_rigs.chaos.check import Findings, check_run
from journeykit_rigs.chaos.clock import FileClock
from journeykit_rigs.chaos.harness import ChaosConfig
from journeykit_rigs.chaos.trial import run_trial
from sqlalchemy import text

from journeykit.foundation.db import make_engine
from journeykit.sandbox.server import SandboxServer
from journeykit.sandbox.store import MessageStore

CUSTOMERS = 3


@pytest.fixture(scope="module")
def clean_trial(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, MessageStore, Path]:
    workdir = tmp_path_factory.mktemp("trial")
    url = f"sqlite:///{workdir}/journeykit.db"
    sandbox = SandboxServer()
    config = ChaosConfig(customers=CUSTOMERS, kills_per_trial=1)
    kills, _, findings = run_trial(config, url, sandbox, workdir, random.Random(3))
    assert kills == 1
    assert findings.as_dict() == Findings(sent=3 * CUSTOMERS).as_dict()
    return url, sandbox.store, workdir


def _check(url: str, store: MessageStore, workdir: Path) -> Findings:
    now = FileClock(workdir / "clock.txt").read()
    return check_run(make_engine(url), store, CUSTOMERS, now)


def test_a_clean_trial_checks_clean(clean_trial) -> None:
    found = _check(*clean_trial)
    assert (found.duplicates, found.lost, found.stuck, found.half_written) == (0, 0, 0, 0)
    assert found.sent == 3 * CUSTOMERS and found.examples == []


def test_each_kind_of_damage_is_found(clean_trial) -> None:
    url, store, workdir = clean_trial
    sms = next(m for m in store.messages() if m.provider != "sendgrid")
    store.add([replace(sms, id=f"{sms.id}-again", request_id=f"{sms.request_id}-again")])
    engine = make_engine(url)
    with engine.begin() as conn:
        keys = [k for (k,) in conn.execute(text("SELECT key FROM outboxmessage ORDER BY id"))]
        conn.execute(text("UPDATE outboxmessage SET status='sending' WHERE key=:k"), {"k": keys[0]})
        conn.execute(text("UPDATE outboxmessage SET status='failed' WHERE key=:k"), {"k": keys[1]})
        conn.execute(text("UPDATE enrollment SET status='active' WHERE id=1"))
        last = conn.execute(
            text(
                "SELECT max(id) FROM enrollmenthistory"
                " WHERE enrollment_id=2 AND to_node IS NOT NULL"
            )
        ).scalar_one()
        conn.execute(
            text("UPDATE enrollmenthistory SET to_node='elsewhere' WHERE id=:i"), {"i": last}
        )
    found = _check(url, store, workdir)
    assert found.duplicates == 1
    assert found.stuck == 2  # the row in sending, the active enrollment
    assert found.lost == 1
    assert found.half_written == 1
    text_of = "\n".join(found.examples)
    assert f"outbox {keys[0]} still sending" in text_of
    assert f"outbox {keys[1]} ended failed" in text_of
    assert "history ends at elsewhere" in text_of

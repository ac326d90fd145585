"""The topology test's judge: each expected message exactly once (by recipient and node, no
outbox key twice), optional ones at most once, latency from the cause's 202; and a flow run's
process found among a worker's descendants."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from journeykit_rigs.topology.check import judge, node_of
from journeykit_rigs.topology.process import descendants
from journeykit_rigs.topology.scenario import run_pid
from journeykit_rigs.topology.workload import Expected, Posted

T0 = datetime(2026, 3, 2, 15, tzinfo=UTC)


def message(to: str, key: str, seconds: float, text: str = "order 5000") -> dict[str, object]:
    received = (T0 + timedelta(seconds=seconds)).isoformat()
    return {"to": to, "custom_args": {"journeykit_key": key}, "received_at": received,
            "html": text, "text": ""}  # fmt: skip


def test_missing_duplicated_and_latency() -> None:
    apology = Expected("a@x", "apology_email", "delayed-5000", "5000")
    alert = Expected("b@x", "alert_email", "restock", "Lamp")
    late = Expected("c@x", "alert_email", "restock", "Lamp")
    posted = {
        "delayed-5000": Posted("delayed-5000", {}, 202, T0, 1),
        "restock": Posted("restock", {}, 202, T0, 1),
    }
    messages = [
        message("a@x", "7:apology_email:email:1", 2.0),
        message("a@x", "7:apology_email:email:1", 3.0),  # the same outbox row sent twice
        message("c@x", "9:alert_email:email:1", 4.0, "Lamp"),
    ]
    verdict = judge(messages, [apology, alert], posted, [late])
    assert node_of(messages[0]) == "apology_email"
    assert verdict.missing == [alert] and not verdict.complete
    assert verdict.duplicated == {"apology_email -> a@x": 2}
    assert verdict.duplicate_keys == {"7:apology_email:email:1": 2}
    assert verdict.latencies_s == [2.0, 4.0] and not verdict.wrong_content
    assert verdict.summary()["latency_s"]["p50"] == 3.0


def test_wrong_subject_is_reported() -> None:
    apology = Expected("a@x", "apology_email", "delayed-5000", "5000")
    verdict = judge([message("a@x", "7:apology_email:email:1", 1.0, "order 6000")], [apology], {})
    assert verdict.complete and verdict.wrong_content


def test_a_run_is_found_by_its_pid_among_a_workers_descendants() -> None:
    assert run_pid({"infrastructure_pid": "4242"}) == 4242
    assert run_pid({"infrastructure_pid": "host:4242"}) == 4242
    assert run_pid({"infrastructure_pid": None}) is None
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in descendants(os.getpid())
        assert os.getpid() not in descendants(os.getpid())
    finally:
        child.kill()
        child.wait()

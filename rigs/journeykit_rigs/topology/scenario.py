"""The run the topology test makes, phase by phase, with its faults:

1. the catalog (a sofa in stock, a sold-out lamp), applied before anything refers to it;
2. a burst of orders, each ``order.placed`` then ``order.delayed`` back to back, from several
   threads; the first ``journeys worker`` to begin a batch run is SIGKILLed at once (with
   ``prefect`` delivery: process worker-a with its flow-run processes, as soon as a run is
   Running);
3. restock signups, then the restock while more signups arrive;
4. the Prefect server stopped and started again while orders keep coming (the store retries a
   503 or a refused connection, as webhook senders do);
5. a bounded wait until every expected message is in the sandbox, then until a scheduled run
   (the sweep, every minute) has completed.

Returns a JSON-ready summary: counts, the answers the store got, the verdict (missing,
duplicated), latencies from HTTP accept to sandbox accept (p50/p99), flow-run states."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import create_engine, text

from journeykit_rigs.topology import workload as w
from journeykit_rigs.topology.check import Verdict, judge, sandbox_messages
from journeykit_rigs.topology.topology import API_KEY, Topology

# Small numbers keep the test within minutes and still adversarial (with ``prefect`` delivery
# each event is a flow run in a process of its own, ~10 s to start on a loaded 2-core machine).
ORDERS = 4
LATE_ORDERS = 1  # posted while the Prefect server restarts
SIGNUPS_BEFORE = 4
SIGNUPS_DURING = 2


def run(
    topology: Topology,
    *,
    deliver_within_s: float = 240.0,
    restart_prefect: bool = True,
    steady_orders: int = 0,
    steady_per_s: float = 2.0,
) -> tuple[dict[str, Any], Verdict]:
    """The phases above (``restart_prefect=False``: the late orders without the restart, to
    measure the latency of the worker path alone). ``steady_orders``: after the restock, that
    many more orders (placed then delayed, back to back) at ``steady_per_s`` a second, as a
    store sends them through a day: the latency bench's samples, beyond the bursts'."""
    began = time.monotonic()
    store = w.Store(topology.web_url, API_KEY)
    faults: dict[str, Any] = {}
    phases: dict[str, float] = {}  # seconds since the start when each phase ended

    def phase(name: str) -> None:
        phases[name] = round(time.monotonic() - began, 1)

    # 1. the catalog, applied before the orders and signups that refer to it
    store.post("product-sofa", w.product(w.SOFA, 500))
    store.post("product-lamp", w.product(w.LAMP, 0))
    wait_applied(topology, "product.upserted", 2, timeout_s=180)
    phase("catalog applied")

    # 2. a burst of orders (placed then delayed, back to back), and a worker killed mid-run
    expected: list[w.Expected] = []
    with ThreadPoolExecutor(4) as pool:
        burst = [pool.submit(w.delayed_order, store, str(5000 + i)) for i in range(ORDERS)]
        if topology.event_delivery == "worker":
            killed = kill_event_worker_mid_run(topology, list(topology.event_workers))
            faults["worker_killed"], faults["worker_killed_after_s"] = killed
        else:
            faults["worker_killed_after_s"] = kill_worker_mid_run(topology, "worker-a")
        expected += [f.result() for f in burst]
    phase("orders accepted")

    # 3. signups, then the restock while more signups arrive
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: store.post(f"signup-{i}", w.restock_signup(f"early{i}")),
                      range(SIGNUPS_BEFORE)))  # fmt: skip
    before = [
        w.Expected(f"early{i}@topology.example", "alert_email", "restock", "Topo-Lamp")
        for i in range(SIGNUPS_BEFORE)
    ]
    with ThreadPoolExecutor(4) as pool:
        during = [
            pool.submit(store.post, f"signup-late-{i}", w.restock_signup(f"late{i}"))
            for i in range(SIGNUPS_DURING)
        ]
        store.post("restock", w.inventory_changed(w.RESTOCK_QUANTITY))
        for f in during:
            f.result()
    expected += before
    phase("restock accepted")

    # 3b. a steady stream of orders (the latency bench: enough samples for a median)
    if steady_orders:
        with ThreadPoolExecutor(8) as pool:
            stream = []
            for i in range(steady_orders):
                stream.append(pool.submit(w.delayed_order, store, str(7000 + i)))
                time.sleep(1.0 / steady_per_s)
            expected += [f.result() for f in stream]
        phase("steady orders accepted")
    optional = [  # a signup accepted after the restock may or may not make its first wave
        w.Expected(f"late{i}@topology.example", "alert_email", "restock", "Topo-Lamp")
        for i in range(SIGNUPS_DURING)
    ]

    # 4. the Prefect server restarted while orders keep coming
    with ThreadPoolExecutor(2) as pool:
        restart = pool.submit(topology.restart_prefect_server) if restart_prefect else None
        time.sleep(1.0)
        late = [pool.submit(w.delayed_order, store, str(6000 + i)) for i in range(LATE_ORDERS)]
        faults["prefect_server_down_s"] = round(restart.result(), 1) if restart else None
        expected += [f.result() for f in late]
    phase("prefect server restarted" if restart_prefect else "late orders accepted")

    # 5. bounded wait for the sandbox to have everything
    verdict = wait_delivered(topology, store, expected, optional, deliver_within_s)
    phase("delivered" if verdict.complete else "gave up waiting")
    # the scheduler works: a sweep (every minute) completes (events no longer wait for one)
    wait_scheduled_run(topology, timeout_s=150)
    phase("a scheduled run completed")
    answers = Counter(str(p.status) for p in store.posted.values())
    inbox = {m["to"] for m in sandbox_messages(topology.sandbox_url)}
    summary = {
        "events_posted": len(store.posted),
        "answers": dict(answers),
        "retried_requests": sum(p.tries > 1 for p in store.posted.values()),
        **verdict.summary(),
        "optional_alerts_sent": sum(o.to in inbox for o in optional),
        "faults": faults,
        "phases_s": phases,
        "flow_runs": flow_run_states(topology),
        "scheduled_runs_completed": topology.completed_scheduled_runs(),
        "journeykit_db": journeykit_state(topology),
        "seconds": round(time.monotonic() - began, 1),
    }
    return summary, verdict


def wait_scheduled_run(topology: Topology, timeout_s: float) -> None:
    """Until a run the scheduler created has completed (bounded: the check says if none)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if topology.completed_scheduled_runs() >= 1:
                return
        except Exception:  # the summary says what it found
            pass
        time.sleep(2.0)


def wait_applied(topology: Topology, event_type: str, count: int, timeout_s: float) -> None:
    """Until ``count`` events of ``event_type`` are applied in Journeykit's database."""
    engine = create_engine(topology.env["JOURNEYKIT_DATABASE__URL"])
    query = text("select count(*) from domainevent where type = :t and processed_at is not null")
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            with engine.connect() as connection:
                if connection.execute(query, {"t": event_type}).scalar_one() >= count:
                    return
            topology.check_running()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} {event_type} not applied within {timeout_s:.0f} s")
            time.sleep(1.0)
    finally:
        engine.dispose()


def kill_worker_mid_run(topology: Topology, name: str, timeout_s: float = 90.0) -> float | None:
    """SIGKILL ``name`` and its flow-run processes once a flow run is Running in one of
    them; the seconds that took, or None when it never ran one (it is killed anyway)."""
    worker = topology.processes[name]
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        try:
            runs = topology.flow_runs()
        except Exception:
            runs = []
        running = [r for r in runs if r["state_type"] == "RUNNING"]
        children = worker.descendants()
        if any(run_pid(r) in children for r in running):
            worker.kill()
            return round(time.monotonic() - began, 1)
        time.sleep(0.5)
    worker.kill()
    return None


BEGINNING = "Beginning flow run"  # what Prefect logs as an in-process flow run starts


def kill_event_worker_mid_run(
    topology: Topology, names: list[str], timeout_s: float = 90.0
) -> tuple[str | None, float | None]:
    """SIGKILL the first of the ``journeys worker`` processes ``names`` to begin a new flow
    run (a batch in hand: events being applied, enrollments advanced, messages sent); which
    one and the seconds that took, or (None, None) when none began one."""
    workers = [topology.processes[name] for name in names]
    before = {w.name: w.tail(10**9).count(BEGINNING) for w in workers}
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        for worker in workers:
            if worker.tail(10**9).count(BEGINNING) > before[worker.name]:
                worker.kill()
                return worker.name, round(time.monotonic() - began, 1)
        time.sleep(0.05)
    return None, None


def run_pid(run: dict[str, Any]) -> int | None:
    """The pid of a flow run's process (``infrastructure_pid``: "pid" or "host:pid")."""
    pid = str(run.get("infrastructure_pid") or "").rpartition(":")[2]
    return int(pid) if pid.isdigit() else None


def wait_delivered(
    topology: Topology,
    store: w.Store,
    expected: list[w.Expected],
    optional: list[w.Expected],
    timeout_s: float,
) -> Verdict:
    deadline = time.monotonic() + timeout_s
    while True:
        verdict = judge(sandbox_messages(topology.sandbox_url), expected, store.posted, optional)
        if verdict.complete or time.monotonic() > deadline:
            time.sleep(5.0)  # a late duplicate would show now
            return judge(sandbox_messages(topology.sandbox_url), expected, store.posted, optional)
        time.sleep(2.0)


def flow_run_states(topology: Topology) -> dict[str, int]:
    try:
        return dict(Counter(r["state_name"] for r in topology.flow_runs()))
    except Exception as exc:  # the summary still prints
        return {"unreadable": 1, str(exc)[:80]: 1}


def journeykit_state(topology: Topology) -> dict[str, Any]:
    """What Journeykit's database holds: events recorded (applied or not) per type, messages
    per status: where a missing message was lost (never recorded, never applied, not sent)."""
    engine = create_engine(topology.env["JOURNEYKIT_DATABASE__URL"])
    try:
        with engine.connect() as connection:
            events = connection.execute(
                text(
                    "select type, processed_at is not null, count(*) from domainevent"
                    " group by 1, 2 order by 1, 2"
                )
            ).all()
            outbox = connection.execute(
                text("select status, count(*) from outboxmessage group by 1 order by 1")
            ).all()
    except Exception as exc:  # the summary still prints
        return {"unreadable": str(exc)[:200]}
    finally:
        engine.dispose()
    return {
        "events": {f"{t} ({'applied' if done else 'not applied'})": n for t, done, n in events},
        "outbox": {status: n for status, n in outbox},
    }

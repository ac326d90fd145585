"""Scheduling works on a real Prefect server: a ``prefect server start`` process (its own
PREFECT_HOME and SQLite database, a free port), a deployment with a schedule registered the
way ``journeys deploy`` registers them (``prefect deploy`` from a prefect.yaml), and the
server's scheduler must create its scheduled runs. With SQLAlchemy 2.1.x, Prefect 3.8.8's
scheduler fails on every loop (``Can't evaluate bulk DML statement``) and none appear."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Scheduled
from sqlmodel import Session, select

from journeykit.authoring.simulate.catalog import demo_products
from journeykit.delivery.dispatch import send_due
from journeykit.delivery.providers.from_settings import senders_for
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.ingest import ingest_event
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Enrollment, pk
from journeykit.foundation.settings import Settings
from journeykit.orchestration.deployments import flow_entrypoint
from journeykit.orchestration.wakeups import WAKEUP_TAG, schedule_wakeups
from journeykit.sandbox.server import SandboxServer
from journeykit.service.event_inbox import apply_pending
from journeykit.service.events import accept
from journeykit.service.runtime_factory import build_runtime

FLOW = """from prefect import flow


@flow(name="tick")
def tick() -> None:
    pass
"""

PREFECT_YAML = """name: scheduling-check
prefect-version: 3.8.8
pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{ $PWD }}"
deployments:
  - name: every-minute
    entrypoint: tick.py:tick
    schedules:
      - interval: 60
    work_pool:
      name: journeykit
      work_queue_name: default
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(home: Path, api_url: str | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PREFECT_") or key == "PREFECT_LOGGING_LEVEL"
    }
    env |= {
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        # look for work to schedule often, so the test need not wait a minute
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_SCHEDULER_RECENT_DEPLOYMENTS_LOOP_SECONDS": "2",
        "PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_FOREMAN_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_CANCELLATION_CLEANUP_ENABLED": "false",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


class PrefectServer(NamedTuple):
    api: str
    log: Path
    process: subprocess.Popen[bytes]


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[PrefectServer]:
    """A ``prefect server start`` process: its API URL, log file and process."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    port = free_port()
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "prefect", "server", "start"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=server_env(home), stdout=out, stderr=subprocess.STDOUT
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"prefect server exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield PrefectServer(api, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def scheduled_runs(api: str) -> list[dict[str, object]]:
    answer = httpx.post(
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}, "limit": 50},
        timeout=10,
    )
    answer.raise_for_status()
    runs: list[dict[str, object]] = answer.json()
    return runs


@pytest.mark.prefect
def test_the_server_scheduler_creates_scheduled_runs(
    tmp_path: Path, prefect_server: PrefectServer
) -> None:
    api, log = prefect_server.api, prefect_server.log
    project = tmp_path / "project"
    project.mkdir()
    (project / "tick.py").write_text(FLOW)
    (project / "prefect.yaml").write_text(PREFECT_YAML)
    deployed = subprocess.run(
        [str(Path(sys.executable).parent / "journeys"), "deploy"],
        cwd=project,
        env=server_env(tmp_path / "prefect-home", api_url=api),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "registered 1 deployments" in deployed.stdout

    deadline = time.monotonic() + 30
    runs = scheduled_runs(api)
    while not runs and time.monotonic() < deadline:
        time.sleep(1)
        runs = scheduled_runs(api)
    assert runs, (
        "the Prefect server's scheduler created no scheduled runs; its log:\n"
        + log.read_text()[-4000:]
    )
    assert all(run["deployment_id"] for run in runs)


# --- wake-ups: a wait of about a minute becomes a scheduled run at that minute, which a
# process worker then runs, advancing the enrollment --------------------------------------

ROOT = Path(__file__).parents[2]
JOURNEY = "delay_apology"
PLACED = {
    "type": "order.placed",
    "customer": {"id": "C-51", "first_name": "Ana", "email": "ana@example.com",
                 "timezone": "UTC", "consent": {"email": True}},
    "order": {"number": "5101", "lines": [{"sku": "TEE-M", "quantity": 1}], "total_cents": 900},
}  # fmt: skip
DELAYED = {"type": "order.delayed", "order_number": "5101", "reason": "The carrier missed it.",
           "ship_from": "2026-03-20T00:00:00Z", "ship_to": "2026-03-24T00:00:00Z"}  # fmt: skip


def journey_settings(url: str, sandbox: str) -> dict[str, str]:
    """The environment of a worker's flow runs: our database and the sandbox."""
    return {
        "JOURNEYKIT_DATABASE__URL": url,
        "JOURNEYKIT_PROVIDERS__SENDGRID__BASE_URL": sandbox,
        "JOURNEYKIT_PROVIDERS__TWILIO__BASE_URL": sandbox,
    }


def register_journey(client: SyncPrefectClient, journey: str) -> UUID:
    """The journey's deployment as ``journeys deploy`` registers it (no schedule of its own),
    run from this checkout by the ``journeykit`` process pool."""
    return register(client, journey, flow_entrypoint(journey), ROOT, ["journey:" + journey])


def register(
    client: SyncPrefectClient, flow: str, entrypoint: str, directory: Path, tags: list[str]
) -> UUID:
    """A deployment of ``flow`` named after it, run from ``directory`` by the pool."""
    try:
        client.read_work_pool("journeykit")
    except ObjectNotFound:
        client.create_work_pool(WorkPoolCreate(name="journeykit", type="process"))
    return client.create_deployment(
        flow_id=client.create_flow_from_name(flow),
        name=flow,
        entrypoint=entrypoint,
        work_pool_name="journeykit",
        pull_steps=[
            {"prefect.deployments.steps.set_working_directory": {"directory": str(directory)}}
        ],
        tags=["journeykit", *tags],
    )


def waiting_about_a_minute(runtime: Runtime) -> tuple[int, datetime]:
    """An order placed then delayed: the apology is queued and the enrollment waits for a
    choice for days; that wait is cut to ~75 s from now. (enrollment id, its wake time)"""
    with session_scope(runtime.engine) as session:
        for product in demo_products():
            payload = {"type": "product.upserted", "product": product}
            ingest_event(session, book=runtime.book, now=runtime.clock.now(), payload=payload)
    for key, event in (("w1", PLACED), ("w2", DELAYED)):
        with session_scope(runtime.engine) as session:
            accept(session, payload=event, key=key, source="test", now=runtime.clock.now())
    touched = apply_pending(runtime).touched
    advance(runtime, claim_due(runtime, limit=10, ids=touched))
    assert send_due(runtime, senders_for(runtime), limit=10).sent == 1  # the apology email
    wake = runtime.clock.now() + timedelta(seconds=75)
    with session_scope(runtime.engine) as session:
        enrollment = session.exec(
            select(Enrollment).where(Enrollment.journey == JOURNEY, Enrollment.status == "waiting")
        ).one()
        assert enrollment.node_id == "wait_choice"
        enrollment.wake_at = wake
        return pk(enrollment), wake


def journey_runs(client: SyncPrefectClient, deployment: UUID) -> list[FlowRun]:
    return client.read_flow_runs(
        flow_run_filter=FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=[deployment]))
    )


@pytest.mark.prefect
def test_a_wait_becomes_a_run_scheduled_at_its_minute_which_advances_it(
    tmp_path: Path, prefect_server: PrefectServer
) -> None:
    api, log = prefect_server.api, prefect_server.log
    url = f"sqlite:///{tmp_path}/jk.db"
    upgrade(url)
    base = Settings().with_changes(
        {"journeys_dir": ROOT / "journeys", "templates.dir": ROOT / "templates"}
    )
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {
                "database.url": url,
                "providers.sendgrid.base_url": box.url,
                "providers.twilio.base_url": box.url,
            }
        )
        runtime = build_runtime(settings, engine=make_engine(url), owner="wakeup-test")
        enrollment_id, wake = waiting_about_a_minute(runtime)
        minute = wake.replace(second=0, microsecond=0) + timedelta(minutes=1)
        with (
            temporary_settings(updates={PREFECT_API_URL: api}),
            get_client(sync_client=True) as client,
        ):
            deployment = register_journey(client, JOURNEY)
            done = schedule_wakeups(runtime, client, timedelta(minutes=10))
            assert [(d.journey, d.minute, d.count) for d in done.created] == [(JOURNEY, minute, 1)]
            again = schedule_wakeups(runtime, client, timedelta(minutes=10))
            assert again.created == [] and again.wanted == done.wanted  # one run per minute
            # the server dedupes on the key too (two workers scheduling the same minute)
            twice = client.create_flow_run_from_deployment(
                deployment,
                state=Scheduled(scheduled_time=minute),
                idempotency_key=done.created[0].key,
            )
            [scheduled] = journey_runs(client, deployment)
            assert twice.id == scheduled.id
            # what the UI's upcoming runs show: the journey, the count, the minute
            assert scheduled.state is not None and scheduled.state.is_scheduled()
            assert scheduled.expected_start_time == minute
            assert scheduled.name == f"{JOURNEY} · 1 due"
            assert {"journeykit", f"journey:{JOURNEY}", WAKEUP_TAG} <= set(scheduled.tags)

            env = server_env(tmp_path / "prefect-home", api_url=api) | journey_settings(
                url, box.url
            )
            worker_log = tmp_path / "worker.log"
            with worker_log.open("wb") as out:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "prefect", "worker", "start", "--pool", "journeykit"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                deadline = time.monotonic() + 240  # the minute, then a flow-run process
                run = client.read_flow_run(scheduled.id)
                while not (run.state and run.state.is_final()) and time.monotonic() < deadline:
                    time.sleep(2)
                    run = client.read_flow_run(scheduled.id)
            finally:
                stop(worker)
            logs = worker_log.read_text()[-4000:] + log.read_text()[-2000:]
            assert run.state is not None and run.state.is_completed(), logs
            # a worker submits runs up to 10 s early (prefetch): the wake-up waits for its
            # minute before it claims, so it ends after it (and its work was due)
            assert run.end_time is not None and run.end_time >= minute
            assert run.name == f"{JOURNEY} · 1 due", logs  # renamed with what it found
        with Session(runtime.engine) as session:
            moved = session.get(Enrollment, enrollment_id)
            assert moved is not None and moved.node_id != "wait_choice", logs
        runtime.engine.dispose()


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- a worker stops within 20 s of SIGTERM, a flow run in flight -----------------------------

LONG_FLOW = """import time

from prefect import flow


@flow(name="long-batch")
async def long_batch(seconds: int = 600) -> None:
    for _ in range(seconds):  # blocking work, as a batch's database and provider calls are
        time.sleep(1)
"""


@pytest.mark.slow
@pytest.mark.prefect
@pytest.mark.parametrize("server", ["up", "down"])
def test_a_worker_stops_within_20_s_of_sigterm_with_a_run_in_flight(
    tmp_path: Path, prefect_server: PrefectServer, server: str
) -> None:
    """``prefect worker start`` turns SIGTERM into SIGINT on itself, cancels its loops,
    SIGTERMs each flow-run process and waits for it (prefect/utilities/processutils:
    ``setup_signal_handlers_worker``, ``open_process``); at exit it retries sending its last
    events for ~10 s when the server is unreachable (events/clients.py: 10 reconnection
    attempts 1 s apart). Both must fit in the 20 s a supervisor gives it."""
    api = prefect_server.api
    project = tmp_path / "project"
    project.mkdir()
    (project / "long.py").write_text(LONG_FLOW)
    with (
        temporary_settings(updates={PREFECT_API_URL: api}),
        get_client(sync_client=True) as client,
    ):
        deployment = register(client, "long-batch", "long.py:long_batch", project, [])
        run = client.create_flow_run_from_deployment(deployment)
        env = server_env(tmp_path / "prefect-home", api_url=api)
        env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = "30"  # as docs/ops.md starts workers
        worker_log = tmp_path / "worker.log"
        with worker_log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", "journeykit"],
                cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            state = client.read_flow_run(run.id).state
            while not (state and state.is_running()) and time.monotonic() < deadline:
                time.sleep(1)
                state = client.read_flow_run(run.id).state
            assert state is not None and state.is_running(), worker_log.read_text()[-3000:]
            if server == "down":
                prefect_server.process.terminate()
                prefect_server.process.wait(timeout=30)
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pytest.fail("the worker did not stop within 20 s of SIGTERM:\n"
                            + worker_log.read_text()[-3000:])  # fmt: skip
        finally:
            stop(worker)

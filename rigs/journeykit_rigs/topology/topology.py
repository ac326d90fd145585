"""The production topology, started step by step as docs/ops.md says (its "Tested topology"
section lists the same commands): a Prefect server process (not ephemeral) whose database is
on PostgreSQL, ``journeys db upgrade`` on Journeykit's own database in the same server,
``journeys deploy``, two process workers on the ``journeykit`` pool, ``journeys serve`` (events
handed to Prefect) and ``journeys sandbox`` (the providers). Every process runs from the project
directory with one environment (ops' ``.env``), in its own session; logs go to ``logs/``."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from journeykit_rigs.topology.process import ManagedProcess, ProcessFailed, run_step

POOL = "journeykit"
API_KEY = "topology-api-key"


class Database(Protocol):
    """A PostgreSQL server the topology may create databases in (topology/postgres.py)."""

    def create_database(self, name: str) -> str: ...


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bin_path(name: str) -> str:
    """A console script of this virtual environment (``journeys``, ``prefect``)."""
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else name


@dataclass
class Topology:
    project: Path
    workdir: Path
    postgres: Database
    worker_query_seconds: float = 2.0
    worker_limit: int = 4  # flow-run processes per worker: more only thrash 2 cores
    lease_seconds: int = 30
    event_delivery: str = "worker"  # journeys serve only stores; `journeys worker` applies
    event_workers: tuple[str, ...] = ("events-a", "events-b")
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.logs = self.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.prefect_port = free_port()
        self.web_port = free_port()
        self.sandbox_port = free_port()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.prefect_port}/api"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def _environment(self, prefect_db: str, journeykit_db: str) -> dict[str, str]:
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "JOURNEYKIT_"))
        }
        return {
            **base,
            "PREFECT_HOME": str(self.workdir / "prefect-home"),
            "PREFECT_API_URL": self.api_url,
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": prefect_db,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            # the default pool (5 + 10) runs dry when every worker and flow-run process
            # reconnects at once after a server restart: 500s, runs crashed on submission
            "PREFECT_SERVER_DATABASE_SQLALCHEMY_POOL_SIZE": "20",
            "PREFECT_SERVER_DATABASE_SQLALCHEMY_MAX_OVERFLOW": "30",
            "PREFECT_WORKER_QUERY_SECONDS": str(self.worker_query_seconds),
            "PREFECT_WORKER_PREFETCH_SECONDS": "5",
            "PREFECT_LOGGING_LEVEL": "INFO",
            "JOURNEYKIT_DATABASE__URL": journeykit_db,
            "JOURNEYKIT_WEB__EVENT_DELIVERY": self.event_delivery,
            "JOURNEYKIT_WEB__API_KEY": API_KEY,
            "JOURNEYKIT_WEB__SIGNING_SECRET": "topology-signing-secret",
            "JOURNEYKIT_WEB__PUBLIC_BASE_URL": self.web_url,
            "JOURNEYKIT_PROVIDERS__SENDGRID__BASE_URL": self.sandbox_url,
            "JOURNEYKIT_PROVIDERS__TWILIO__BASE_URL": self.sandbox_url,
            "JOURNEYKIT_SCALE__LEASE_SECONDS": str(self.lease_seconds),
            **self.env,
        }

    def _process(self, name: str, *command: str) -> ManagedProcess:
        process = ManagedProcess(name, command, env=self.env, cwd=self.project, logs=self.logs)
        self.processes[name] = process
        return process

    # -- the steps of docs/ops.md ------------------------------------------------------------

    def start(self) -> None:
        prefect_db = self.postgres.create_database(f"prefect_{self.prefect_port}")
        journeykit_db = self.postgres.create_database(f"journeykit_{self.prefect_port}")
        asyncpg = prefect_db.replace("postgresql+psycopg://", "postgresql+asyncpg://")
        self.env = self._environment(asyncpg, journeykit_db)
        self.start_prefect_server()
        run_step(
            "db-upgrade", [bin_path("journeys"), "db", "upgrade"],
            env=self.env, cwd=self.project, logs=self.logs, timeout_s=300,
        )  # fmt: skip
        run_step(
            "deploy", [bin_path("journeys"), "deploy"],
            env=self.env, cwd=self.project, logs=self.logs, timeout_s=600,
        )  # fmt: skip
        self.start_sandbox()
        self.start_web()
        for name in ("worker-a", "worker-b"):
            self.start_worker(name)
        if self.event_delivery == "worker":
            for name in self.event_workers:
                self.start_event_worker(name)

    def start_prefect_server(self) -> None:
        server = self.processes.get("prefect-server") or self._process(
            "prefect-server",
            bin_path("prefect"), "server", "start", "--host", "127.0.0.1",
            "--port", str(self.prefect_port),
        )  # fmt: skip
        server.start().wait_until(
            lambda: httpx.get(f"{self.api_url}/health", timeout=5).status_code == 200,
            240,
            "healthy API",
        )

    def restart_prefect_server(self) -> float:
        """Stop the Prefect server (SIGTERM) and start it again; the seconds it was down."""
        began = time.monotonic()
        self.processes["prefect-server"].stop()
        self.start_prefect_server()
        return time.monotonic() - began

    def start_sandbox(self) -> None:
        self._process(
            "sandbox", bin_path("journeys"), "sandbox", "--port", str(self.sandbox_port),
            "--inbox-file", str(self.workdir / "inbox.sqlite"),
        ).start().wait_until(
            lambda: httpx.get(f"{self.sandbox_url}/_sandbox/health", timeout=5).is_success,
            120,
            "healthy sandbox",
        )  # fmt: skip

    def start_web(self) -> None:
        self._process(
            "web", bin_path("journeys"), "serve", "--port", str(self.web_port)
        ).start().wait_until(
            lambda: httpx.get(f"{self.web_url}/healthz", timeout=5).is_success,
            120,
            "healthy web app",
        )

    def start_worker(self, name: str) -> ManagedProcess:
        worker = self.processes.get(name) or self._process(
            name, bin_path("prefect"), "worker", "start", "--pool", POOL, "--name", name,
            "--limit", str(self.worker_limit),
        )  # fmt: skip
        worker.start().wait_until(lambda: self.worker_online(name), 180, "worker online")
        return worker

    def start_event_worker(self, name: str) -> ManagedProcess:
        """``journeys worker``: applies the inbox as events arrive, a flow run per batch."""
        worker = self.processes.get(name) or self._process(name, bin_path("journeys"), "worker")
        worker.start().wait_until(
            lambda: "polling the event inbox" in worker.tail(), 120, "event worker polling"
        )
        return worker

    def worker_online(self, name: str) -> bool:
        found = httpx.post(f"{self.api_url}/work_pools/{POOL}/workers/filter", json={}, timeout=5)
        return any(w["name"] == name and w.get("status") == "ONLINE" for w in found.json())

    # -- looking at it -------------------------------------------------------------------------

    def flow_runs(self) -> list[dict[str, Any]]:
        found = httpx.post(f"{self.api_url}/flow_runs/filter", json={"limit": 200}, timeout=30)
        found.raise_for_status()
        runs: list[dict[str, Any]] = found.json()
        return runs

    def completed_scheduled_runs(self) -> int:
        """Runs of the safety sweep the scheduler created, in any state (it runs every 15
        minutes: the first may still be ahead): 0 means nothing is ever scheduled
        (SQLAlchemy 2.1.x with Prefect 3.8.8, issue 14)."""
        query = {"flows": {"name": {"any_": ["journeykit-sweep"]}}, "limit": 200}
        found = httpx.post(f"{self.api_url}/flow_runs/filter", json=query, timeout=30)
        found.raise_for_status()
        return sum(bool(r.get("auto_scheduled")) for r in found.json())

    def check_running(self) -> None:
        """Fail at once, with its log, when a process that should run has exited."""
        for process in self.processes.values():
            if process.starts and not process.running() and process.pid is not None:
                raise ProcessFailed(f"{process.name} exited:\n{process.tail()}")

    def log_tails(self, chars: int = 3000) -> str:
        return "\n".join(
            f"----- {p.name} ({p.log_file}) -----\n{p.tail(chars)}" for p in self.processes.values()
        )

    def stop(self) -> None:
        """Workers first (they finish or abandon their runs), then the doors, then Prefect."""
        order = [*self.event_workers, "worker-a", "worker-b", "web", "sandbox", "prefect-server"]
        for name in sorted(self.processes, key=lambda n: order.index(n) if n in order else 0):
            self.processes[name].stop()

    def keep_logs(self, destination: Path) -> Path:
        """Copy the logs somewhere that outlives the temp directory (CI artifacts)."""
        shutil.copytree(self.logs, destination, dirs_exist_ok=True)
        return destination

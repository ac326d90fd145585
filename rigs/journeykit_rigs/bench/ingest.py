"""Event ingestion at the door, run as production runs it: the web app under uvicorn in its
own process tree (``--workers N``, each worker building the app from ``JOURNEYKIT_*``, the
ASGI factory ``journeykit.web.app:app_from_environment``), ``web.event_delivery=worker`` by
default (the door stores the event in the inbox and answers 202; a ``journeys worker``
applies it), on SQLite or the PostgreSQL database given.

The load generator keeps ``concurrency`` HTTP/1.1 keep-alive connections, one request in
flight on each: **closed loop** (each connection sends its next request when the answer
came: the most the server can take) or **open loop** at ``rate`` requests/s spread over the
connections (each request has its due time, and its latency is counted from that time, so a
slow answer also delays the ones queued behind it). The requests are built before the clock
starts and sent as raw bytes (``client="raw"``, a few microseconds each) or through httpx
(``client="httpx"``, to compare what the client costs).

Kinds: ``events`` (``POST /events`` ``cart.updated``, each with its own
``Idempotency-Key``) or ``mixed`` (half of them signed Twilio status callbacks).

Reported: requests/s, p50/p99/max latency per kind, the CPU seconds of the server processes,
of PostgreSQL (the postmaster and its backends) and of the client, the load average, and the
rows counted afterwards: every 202 has its inbox row (``lost``), no key is stored twice
(``doubled``)."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import text
from sqlmodel import Session, col, func, select
from twilio.request_validator import RequestValidator

from journeykit.cli.serve import WORKER_STARTUP_SECONDS
from journeykit.foundation.db import make_engine
from journeykit.foundation.models import InboxEvent, MessageEvent
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import free_port
from journeykit_rigs.bench.runtime import START, bench_settings, database_url, dialect, machine
from journeykit_rigs.bench.seed import SKU, seed_variant

API_KEY = "bench-api-key"
EVENTS_PATH = "/events"
STATUS_PATH = "/webhooks/twilio/status"
FACTORY = "journeykit.web.app:app_from_environment"
KINDS = ("events", "mixed")
CLIENTS = ("raw", "httpx")
DELIVERIES = ("worker", "inline", "prefect")


@dataclass
class Load:
    """What to send and how."""

    requests: int
    concurrency: int = 32
    rate: float | None = None  # None: closed loop
    kinds: str = "events"
    client: str = "raw"


@dataclass
class Request:
    kind: str
    path: str
    body: bytes
    headers: dict[str, str]
    key: str | None = None  # the Idempotency-Key of an event


@dataclass
class Timings:
    rows: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    accepted_keys: set[str] = field(default_factory=set)
    seconds: float = 0.0
    # (second of the run the request was due in, its latency): the latency over time
    by_second: list[tuple[int, float]] = field(default_factory=list)

    def add(
        self, request: Request, status: int, seconds: float, body: bytes, at: float = 0.0
    ) -> None:
        self.rows.setdefault(request.kind, []).append((status, seconds))
        self.by_second.append((int(at), seconds))
        if request.kind == "events" and status == 202:
            self.accepted_keys.add(str(json.loads(body)["key"]))


def run_ingest(
    requests: int,
    *,
    concurrency: int = 32,
    url: str | None = None,
    workdir: Path | None = None,
    web_workers: int = 1,
    rate: float | None = None,
    kinds: str = "events",
    client: str = "raw",
    delivery: str = "worker",
    pool_size: int | None = None,
) -> dict[str, Any]:
    load = Load(requests, concurrency, rate, kinds, client)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        engine = make_engine(url)
        seed_variant(engine, START, inventory=10)
        postgres = _postmaster(engine)
        port = free_port()
        settings = _settings(url, port)
        env = _server_env(url, port, delivery, pool_size)
        server = subprocess.Popen(_server_command(port, web_workers), env=env)
        try:
            asyncio.run(_wait_up(port, web_workers, server))
            requests_to_send = _build(settings, load)
            warm = Load(load.concurrency * 4, load.concurrency, None, "events", load.client)
            asyncio.run(_load(port, _build(settings, warm, prefix="warm"), warm))
            server_cpu, pg_cpu = _cpu(_tree(server.pid)), _cpu(postgres)
            # the requests built, and this process's startup, out of the collector's full
            # passes: one would pause the load generator (and count as latency) for tens of ms
            gc.collect()
            gc.freeze()
            client_cpu = time.process_time()
            try:
                timings = asyncio.run(_load(port, requests_to_send, load))
            finally:
                gc.unfreeze()
            client_cpu = time.process_time() - client_cpu
            server_cpu, pg_cpu = _cpu(_tree(server.pid)) - server_cpu, _cpu(postgres) - pg_cpu
            load_average = os.getloadavg()
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        counted = _count(engine, timings)
        engine.dispose()
    ok = {kind: sum(1 for s, _ in rows if s < 300) for kind, rows in timings.rows.items()}
    return {
        "benchmark": "ingest",
        "requests": requests,
        "concurrency": concurrency,
        "mode": "open loop" if rate else "closed loop",
        "rate_target": rate,
        "kinds": kinds,
        "client": client,
        "web_workers": web_workers,
        "event_delivery": delivery,
        "pool_size": pool_size or settings.database.pool_size,
        "seconds": round(timings.seconds, 3),
        "requests_per_s": round(requests / timings.seconds, 1),
        "accepted_per_s": round(sum(ok.values()) / timings.seconds, 1),
        "latency_ms": {k: _percentiles([t for _, t in rows]) for k, rows in timings.rows.items()},
        "latency_ms_by_second": _over_time(timings.by_second),
        "accepted": ok,
        "errors": {k: sorted({s for s, _ in rows if s >= 300}) for k, rows in timings.rows.items()},
        **counted,
        "cpu_seconds": {
            "server": round(server_cpu, 2),
            "postgres": round(pg_cpu, 2) if postgres else None,
            "client": round(client_cpu, 2),
        },
        "load_average": [round(x, 2) for x in load_average],
        "database": dialect(url),
        "machine": machine(),
    }


def _settings(url: str, port: int) -> Settings:
    return bench_settings(
        {
            "database.url": url,
            "web.api_key": API_KEY,
            "web.public_base_url": f"http://127.0.0.1:{port}",
        }
    )


def _server_env(url: str, port: int, delivery: str, pool_size: int | None) -> dict[str, str]:
    """The server's settings; the pool as configured (``database.pool_size``) unless
    ``pool_size`` is given."""
    settings = _settings(url, port)
    pool = {"JOURNEYKIT_DATABASE__POOL_SIZE": str(pool_size)} if pool_size else {}
    return {
        **os.environ,
        **pool,
        "JOURNEYKIT_DATABASE__URL": url,
        "JOURNEYKIT_WEB__API_KEY": API_KEY,
        "JOURNEYKIT_WEB__PUBLIC_BASE_URL": settings.web.public_base_url,
        "JOURNEYKIT_WEB__SIGNING_SECRET": settings.web.signing_secret.get_secret_value(),
        "JOURNEYKIT_WEB__EVENT_DELIVERY": delivery,
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def _server_command(port: int, web_workers: int) -> list[str]:
    """``uvicorn --factory`` as ``journeys serve --workers N`` runs it, without access logs."""
    return [
        sys.executable, "-m", "uvicorn", FACTORY, "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(web_workers),
        "--log-level", "warning", "--no-access-log",
        "--timeout-worker-healthcheck", str(WORKER_STARTUP_SECONDS),
    ]  # fmt: skip


async def _wait_up(port: int, web_workers: int, server: subprocess.Popen[bytes]) -> None:
    """/healthz answers, and every worker process is up (each builds its own app)."""
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(1800):
            if server.poll() is not None:
                raise RuntimeError(f"the web app exited ({server.returncode})")
            try:
                healthy = (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
            except httpx.TransportError:
                healthy = False
            if healthy and (web_workers == 1 or len(_tree(server.pid)) > web_workers):
                await _until_quiet(server.pid)
                return
            await asyncio.sleep(0.1)
    raise TimeoutError("the web app did not start")


async def _until_quiet(pid: int) -> None:
    """Until the server's processes are done starting (each worker builds its app)."""
    for _ in range(60):
        before = _cpu(_tree(pid))
        await asyncio.sleep(0.5)
        if _cpu(_tree(pid)) - before < 0.05:
            return


def _build(settings: Settings, load: Load, prefix: str = "bench") -> list[Request]:
    """Every request, built before the clock starts."""
    base = settings.web.public_base_url
    signer = RequestValidator(settings.providers.twilio.auth_token.get_secret_value())
    built: list[Request] = []
    for i in range(load.requests):
        if load.kinds == "mixed" and i % 2 == 1:
            form = {"MessageSid": f"SMbench{i:08d}", "MessageStatus": "delivered"}
            signature = signer.compute_signature(f"{base}{STATUS_PATH}", form)
            built.append(
                Request(
                    "twilio_status",
                    STATUS_PATH,
                    str(httpx.QueryParams(form)).encode(),
                    {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature,
                    },
                )
            )
            continue
        key = f"{prefix}-{i}"
        built.append(
            Request(
                "events",
                EVENTS_PATH,
                json.dumps(_cart_event(i)).encode(),
                {"Content-Type": "application/json", "X-Api-Key": API_KEY, "Idempotency-Key": key},
                key=f"api:{key}",
            )
        )
    return built


async def _load(port: int, requests: list[Request], load: Load) -> Timings:
    """``load.concurrency`` connections; connection c sends requests c, c+C, c+2C, ...
    (closed loop: back to back; open loop: each at its due time ``i / rate``)."""
    timings = Timings()
    connections = min(load.concurrency, len(requests))
    make = _raw_sender if load.client == "raw" else _httpx_sender
    async with make(port, connections) as senders:
        loop = asyncio.get_running_loop()
        started = loop.time() + 0.05

        async def run(c: int) -> None:
            send = senders[c]
            for i in range(c, len(requests), connections):
                due = started + i / load.rate if load.rate else loop.time()
                if load.rate:
                    pause = due - loop.time()
                    if pause > 0:
                        await asyncio.sleep(pause)
                status, body = await send(requests[i])
                timings.add(requests[i], status, loop.time() - due, body, due - started)

        await asyncio.gather(*(run(c) for c in range(connections)))
        timings.seconds = loop.time() - started
    return timings


class _RawConnection:
    """One keep-alive HTTP/1.1 connection: a request out, its answer read by Content-Length."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        head = [f"POST {request.path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        head.append(f"Content-Length: {len(request.body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + request.body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        lines = answer.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class _raw_sender:
    def __init__(self, port: int, connections: int) -> None:
        self.connections = [_RawConnection(port) for _ in range(connections)]

    async def __aenter__(self) -> list[Any]:
        return [c.send for c in self.connections]

    async def __aexit__(self, *_: object) -> None:
        for connection in self.connections:
            connection.close()


class _httpx_sender:
    def __init__(self, port: int, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.connections = connections
        self.client = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
        )

    async def __aenter__(self) -> list[Any]:
        async def send(request: Request) -> tuple[int, bytes]:
            response = await self.client.post(
                request.path, content=request.body, headers=request.headers
            )
            return response.status_code, response.content

        return [send] * self.connections

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()


def _count(engine: Any, timings: Timings) -> dict[str, Any]:
    """The rows afterwards: each accepted event has its inbox row, none twice."""
    with Session(engine) as session:
        keys = list(
            session.exec(select(InboxEvent.key).where(col(InboxEvent.key).startswith("api:bench-")))
        )
        statuses = int(session.exec(select(func.count()).select_from(MessageEvent)).one())
    stored = set(keys)
    return {
        "rows": {"events": len(keys), "twilio_status": statuses},
        "lost": len(timings.accepted_keys - stored)
        + max(0, sum(1 for s, _ in timings.rows.get("twilio_status", []) if s < 300) - statuses),
        "doubled": len(keys) - len(stored),
        "stored_without_202": len(stored - timings.accepted_keys),
    }


def _postmaster(engine: Any) -> psutil.Process | None:
    """PostgreSQL's postmaster, when it runs on this machine (its backends are its children)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    try:
        return psutil.Process(backend).parent()
    except psutil.Error:
        return None


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu(processes: list[psutil.Process] | psutil.Process | None) -> float:
    """User + system CPU seconds of the processes and of their finished children."""
    if processes is None:
        return 0.0
    if isinstance(processes, psutil.Process):
        processes = _tree(processes.pid)
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _cart_event(i: int) -> dict[str, Any]:
    return {
        "type": "cart.updated",
        "customer": {
            "id": f"L-{i}",
            "email": f"l{i}@example.com",
            "timezone": "America/New_York",
            "consent": {"email": True},
        },
        "cart": {"token": f"cart-{i}", "lines": [{"sku": SKU, "quantity": 1}]},
    }


def _over_time(rows: list[tuple[int, float]]) -> list[dict[str, Any]]:
    """p50/p99/max of the requests due in each second of the run: a warm-up, a pause (GC, a
    checkpoint) or a queue that grows shows where it happened."""
    seconds: dict[int, list[float]] = {}
    for second, latency in rows:
        seconds.setdefault(second, []).append(latency)
    return [
        {"second": second, "requests": len(values), **_percentiles(values)}
        for second, values in sorted(seconds.items())
    ]


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99), "max": round(ordered[-1] * 1000, 1)}

"""Event ingestion under concurrent load: the real web app under uvicorn (its own process)
takes ``POST /events`` (``cart.updated``, which enrolls into abandoned cart and advances at
once) and signed Twilio status callbacks from an async httpx load generator. Measured:
requests per second, p50/p99 latency per kind, and the rows counted after (nothing lost)."""

from __future__ import annotations

import asyncio
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, func, select
from twilio.request_validator import RequestValidator

from journeykit.foundation.db import make_engine
from journeykit.foundation.models import DomainEvent, MessageEvent
from journeykit.foundation.settings import Settings
from journeykit_rigs.bench.runtime import START, bench_settings, database_url, dialect, machine
from journeykit_rigs.bench.seed import SKU, seed_variant

API_KEY = "bench-api-key"
STATUS_PATH = "/webhooks/twilio/status"


def _settings(url: str, port: int) -> Settings:
    return bench_settings(
        {
            "database.url": url,
            "web.api_key": API_KEY,
            "web.public_base_url": f"http://127.0.0.1:{port}",
        }
    )


def serve(url: str, port: int, ready: Any) -> None:
    """The web app on ``port`` until terminated (run in its own process)."""
    import uvicorn

    from journeykit.web.app import create_app

    config = uvicorn.Config(
        create_app(_settings(url, port)), port=port, log_level="error", access_log=False
    )
    ready.put(port)
    uvicorn.Server(config).run()


def run_ingest(
    requests: int, *, concurrency: int = 32, url: str | None = None, workdir: Path | None = None
) -> dict[str, Any]:
    from journeykit.sandbox.server import free_port

    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        engine = make_engine(url)
        seed_variant(engine, START, inventory=10)
        port, ready = free_port(), context.Queue()
        server = context.Process(target=serve, args=(url, port, ready), daemon=True)
        server.start()
        ready.get(timeout=120)
        try:
            asyncio.run(_wait_up(port))
            timings, seconds = asyncio.run(_load(_settings(url, port), requests, concurrency))
        finally:
            server.terminate()
            server.join(10)
        with Session(engine) as session:
            events = int(session.exec(select(func.count()).select_from(DomainEvent)).one())
            statuses = int(session.exec(select(func.count()).select_from(MessageEvent)).one())
        engine.dispose()
    ok = {kind: sum(1 for s, _ in rows if s < 300) for kind, rows in timings.items()}
    return {
        "benchmark": "ingest",
        "requests": requests,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "requests_per_s": round(requests / seconds, 1),
        "latency_ms": {kind: _percentiles([t for _, t in rows]) for kind, rows in timings.items()},
        "accepted": ok,
        "rows": {"events": events, "twilio_status": statuses},
        "lost": max(0, ok.get("events", 0) - events)
        + max(0, ok.get("twilio_status", 0) - statuses),
        "errors": {k: sorted({s for s, _ in rows if s >= 300}) for k, rows in timings.items()},
        "database": dialect(url),
        "machine": machine(),
    }


async def _wait_up(port: int) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            try:
                if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the web app did not start")


async def _load(
    settings: Settings, requests: int, concurrency: int
) -> tuple[dict[str, list[tuple[int, float]]], float]:
    """Half store events, half Twilio status callbacks, ``concurrency`` in flight."""
    base = settings.web.public_base_url
    signer = RequestValidator(settings.providers.twilio.auth_token.get_secret_value())
    timings: dict[str, list[tuple[int, float]]] = {"events": [], "twilio_status": []}
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one(client: httpx.AsyncClient, i: int) -> None:
        async with gate:
            started = time.perf_counter()
            if i % 2 == 0:
                kind = "events"
                response = await client.post(
                    f"{base}/events",
                    json=_cart_event(i),
                    headers={"X-Api-Key": API_KEY, "Idempotency-Key": f"bench-{i}"},
                )
            else:
                kind = "twilio_status"
                form = {"MessageSid": f"SMbench{i:08d}", "MessageStatus": "delivered"}
                signature = signer.compute_signature(f"{base}{STATUS_PATH}", form)
                response = await client.post(
                    f"{base}{STATUS_PATH}", data=form, headers={"X-Twilio-Signature": signature}
                )
            timings[kind].append((response.status_code, time.perf_counter() - started))

    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client, i) for i in range(requests)))
        return timings, time.perf_counter() - started


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


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    ordered = sorted(values)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)  # noqa: E731
    return {"p50": pick(0.50), "p99": pick(0.99)}

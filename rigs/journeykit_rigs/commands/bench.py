"""``journeys bench fanout|sweep|engine|ingest [--json]``: the benchmarks in docs/performance.md,
at any size. Each prints one JSON object with ``--json`` (else a short summary)."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer

from journeykit.cli.common import fail

bench_app = typer.Typer(
    name="bench",
    help="Benchmarks: fan-out, sweep, engine overhead, ingestion (docs/performance.md).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

URL_HELP = "an empty PostgreSQL database to run on (default: a temporary SQLite file)"


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")


def _emit(result: dict[str, Any], as_json: bool, keys: tuple[str, ...]) -> None:
    if as_json:
        typer.echo(json.dumps(result, sort_keys=False))
        return
    for key in keys:
        typer.echo(f"{key:>24}: {result.get(key)}")


def _positive(value: int, name: str) -> None:
    if value < 1:
        fail(f"{name} must be at least 1 (got {value})")


@bench_app.command()
def fanout(
    subscribers: Annotated[
        int, typer.Option("--subscribers", "-n", help="restock subscribers")
    ] = 1000,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="provider answer latency")
    ] = 40.0,
    unthrottled: Annotated[
        bool, typer.Option("--unthrottled", help="lift the rate limits")
    ] = False,
    sms_per_second: Annotated[
        float, typer.Option("--sms-per-second", help="SMS rate limit")
    ] = 100.0,
    email_rps: Annotated[
        float, typer.Option("--email-requests-per-second", help="SendGrid limit")
    ] = 10.0,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="requests in flight (0: auto)")
    ] = 0,
    batch: Annotated[int, typer.Option("--batch", help="enrollments per engine batch")] = 500,
    database_url: Annotated[str | None, typer.Option("--database-url", help=URL_HELP)] = None,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="the engine alone: queue, send nothing")
    ] = False,
    enroll_only: Annotated[
        bool, typer.Option("--enroll-only", help="with --no-send: the event and enrollment only")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """One restock event to N subscribers (email + SMS) through the sandbox."""
    if enroll_only and not no_send:
        fail("--enroll-only needs --no-send (nothing would be queued to send)")
    _positive(subscribers, "--subscribers")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from journeykit_rigs.bench.fanout import run_fanout

    try:
        result = run_fanout(
            subscribers,
            latency_ms=latency_ms,
            unthrottled=unthrottled,
            sms_per_second=sms_per_second,
            email_requests_per_second=email_rps,
            concurrency=concurrency or None,
            batch=batch,
            url=database_url,
            send=not no_send,
            advance=not enroll_only,
        )
    except RuntimeError as exc:
        fail(str(exc), "SQLite has one writer at a time: try --batch 100, or --database-url")
    keys = ("messages", "seconds", "messages_per_s", "floor_ratio", "peak_rss_mb")
    if no_send:
        keys = ("enrolled", "moves", "engine_seconds", "engine_cpu_ms_per_message", "peak_rss_mb")
    _emit(result, as_json, keys)


@bench_app.command()
def sweep(
    waiting: Annotated[
        int, typer.Option("--waiting", help="enrollments parked for later")
    ] = 10_000,
    due: Annotated[int, typer.Option("--due", help="enrollments due now")] = 1000,
    batch: Annotated[int, typer.Option("--batch", help="enrollments per claim")] = 500,
    database_url: Annotated[str | None, typer.Option("--database-url", help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Sweep time with WAITING parked and DUE due enrollments."""
    _positive(due, "--due")
    if waiting < 0:
        fail(f"--waiting must be 0 or more (got {waiting})")
    from journeykit_rigs.bench.sweep import run_sweep

    result = run_sweep(waiting, due, batch=batch, url=database_url)
    _emit(result, as_json, ("seconds", "advanced", "claim_seconds", "idle_claim_ms", "claim_plan"))


@bench_app.command()
def engine(
    enrollments: Annotated[int, typer.Option("--enrollments", "-n", help="due enrollments")] = 1000,
    batch: Annotated[int, typer.Option("--batch", help="enrollments per batch")] = 500,
    prefect: Annotated[
        bool, typer.Option("--prefect/--no-prefect", help="measure Prefect too")
    ] = True,
    database_url: Annotated[str | None, typer.Option("--database-url", help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Per-node cost of advancing batches, raw insert cost, Prefect overhead per batch."""
    _positive(enrollments, "--enrollments")
    _positive(batch, "--batch")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from journeykit_rigs.bench.engine_cost import run_engine

    result = run_engine(enrollments, batch=batch, prefect=prefect, url=database_url)
    keys = ("moves", "seconds", "per_move_ms", "per_node_ms", "engine_to_raw_ratio")
    _emit(result, as_json, (*keys, "prefect_overhead_per_batch_s"))


@bench_app.command()
def ingest(
    requests: Annotated[int, typer.Option("--requests", "-n", help="requests in all")] = 2000,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", help="requests in flight")
    ] = 32,
    database_url: Annotated[str | None, typer.Option("--database-url", help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """POST /events and Twilio status webhooks against the web app under uvicorn."""
    _positive(requests, "--requests")
    _positive(concurrency, "--concurrency")
    from journeykit_rigs.bench.ingest import run_ingest

    result = run_ingest(requests, concurrency=concurrency, url=database_url)
    _emit(result, as_json, ("requests_per_s", "latency_ms", "rows", "lost"))

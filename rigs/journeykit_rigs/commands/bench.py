"""``journeys bench fanout|sweep|engine|ingest [--json]``: the benchmarks in docs/performance.md,
at any size. Each prints one JSON object with ``--json`` (else a short summary)."""

from __future__ import annotations

import json
import os
from pathlib import Path
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
    compare: Annotated[
        str | None,
        typer.Option("--compare", help="naive: also one Prefect task per message, side by side"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """One restock event to N subscribers (email + SMS) through the sandbox."""
    if enroll_only and not no_send:
        fail("--enroll-only needs --no-send (nothing would be queued to send)")
    if compare not in (None, "naive"):
        fail(f"--compare must be naive (got {compare!r})")
    if compare and no_send:
        fail("--compare needs sending (the naive design sends as it goes): drop --no-send")
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
    if compare == "naive":
        rates = (sms_per_second, email_rps)
        result |= _naive_beside(result, subscribers, latency_ms, unthrottled, *rates)
    keys: tuple[str, ...] = ("messages", "seconds", "messages_per_s", "floor_ratio", "peak_rss_mb")
    keys += ("ratio",) if compare else ()
    if no_send:
        keys = ("enrolled", "moves", "engine_seconds", "engine_cpu_ms_per_message", "peak_rss_mb")
    _emit(result, as_json, keys)


def _naive_beside(
    result: dict[str, Any], subscribers: int, latency_ms: float, unthrottled: bool,
    sms_per_second: float, email_rps: float,
) -> dict[str, Any]:  # fmt: skip
    """``--compare naive``: the same audience through one Prefect task run per message."""
    from journeykit_rigs.bench.naive import run_naive, side_by_side

    try:
        naive = run_naive(
            subscribers,
            latency_ms=latency_ms,
            unthrottled=unthrottled,
            sms_per_second=sms_per_second,
            email_requests_per_second=email_rps,
        )
    except RuntimeError as exc:
        fail(str(exc))
    return side_by_side(result, naive)


@bench_app.command()
def sweep(
    waiting: Annotated[
        int, typer.Option("--waiting", help="enrollments parked for later")
    ] = 10_000,
    due: Annotated[int, typer.Option("--due", help="enrollments due now")] = 1000,
    batch: Annotated[int, typer.Option("--batch", help="enrollments per claim")] = 500,
    baseline: Annotated[
        int,
        typer.Option(
            "--baseline-waiting",
            help="when --waiting is larger: first the same sweep with this many parked, then"
            " the ratio (0: none)",
        ),
    ] = 10_000,
    database_url: Annotated[str | None, typer.Option("--database-url", help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Sweep time with WAITING parked and DUE due enrollments (and, against a smaller
    population in the same database, the ratio of the two: the index makes it ~1)."""
    _positive(due, "--due")
    if waiting < 0:
        fail(f"--waiting must be 0 or more (got {waiting})")
    if baseline < 0:
        fail(f"--baseline-waiting must be 0 or more (got {baseline})")
    from journeykit_rigs.bench.sweep import run_sweep

    result = run_sweep(
        waiting,
        due,
        batch=batch,
        url=database_url,
        baseline=baseline if baseline > 0 and baseline + due < waiting else None,
    )
    keys = ("seconds", "cpu_seconds", "advanced", "claim_seconds", "idle_claim_ms", "claim_plan")
    _emit(result, as_json, (*keys, "ratio", "load_average"))


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
        int, typer.Option("--concurrency", "-c", help="connections, one request in flight each")
    ] = 64,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="open loop: requests/s over all connections (none: closed)"),
    ] = None,
    web_workers: Annotated[int, typer.Option("--web-workers", help="uvicorn worker processes")] = 1,
    kinds: Annotated[
        str, typer.Option("--kinds", help="events: POST /events; mixed: half Twilio callbacks")
    ] = "events",
    client: Annotated[
        str, typer.Option("--client", help="raw: asyncio HTTP/1.1 keep-alive; httpx")
    ] = "raw",
    delivery: Annotated[
        str, typer.Option("--event-delivery", help="web.event_delivery: worker, inline, prefect")
    ] = "worker",
    pool_size: Annotated[
        int | None,
        typer.Option("--pool-size", help="database connections per worker (default: its share)"),
    ] = None,
    database_url: Annotated[str | None, typer.Option("--database-url", help=URL_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """POST /events (and Twilio status webhooks) against the web app run as production runs
    it: uvicorn with --workers, the event stored in the inbox before the 202."""
    _positive(requests, "--requests")
    _positive(concurrency, "--concurrency")
    _positive(web_workers, "--web-workers")
    if rate is not None and rate <= 0:
        fail(f"--rate must be more than 0 (got {rate})")
    from journeykit_rigs.bench.ingest import CLIENTS, DELIVERIES, KINDS, run_ingest

    for name, value, allowed in (
        ("--kinds", kinds, KINDS),
        ("--client", client, CLIENTS),
        ("--event-delivery", delivery, DELIVERIES),
    ):
        if value not in allowed:
            fail(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    result = run_ingest(
        requests,
        concurrency=concurrency,
        url=database_url,
        web_workers=web_workers,
        rate=rate,
        kinds=kinds,
        client=client,
        delivery=delivery,
        pool_size=pool_size,
    )
    _emit(result, as_json, ("accepted_per_s", "latency_ms", "rows", "lost", "doubled"))


@bench_app.command()
def latency(
    postgres_url: Annotated[
        str | None,
        typer.Option(
            "--postgres-url",
            help="a PostgreSQL server whose user may create databases"
            " (default: a throwaway PostgreSQL 15 server)",
        ),
    ] = None,
    logs: Annotated[
        Path | None, typer.Option("--logs", help="keep every process's log in this directory")
    ] = None,
    no_restart: Annotated[
        bool,
        typer.Option("--no-prefect-restart", help="keep the Prefect server up (the worker path)"),
    ] = False,
    steady_orders: Annotated[
        int,
        typer.Option(
            "--steady-orders", min=0, max=10_000, help="orders at a steady pace after the bursts"
        ),
    ] = 30,
    steady_per_s: Annotated[
        float, typer.Option("--steady-per-second", min=0.1, max=100, help="their pace")
    ] = 2.0,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Event accepted over HTTP -> message accepted by the provider, in the production
    topology (worker delivery, an event worker SIGKILLed, the Prefect server restarted);
    run in the project directory (journeys/, prefect.yaml)."""
    from journeykit_rigs.bench.latency import run_latency

    try:
        result = run_latency(
            project=Path.cwd(),
            postgres_url=postgres_url,
            logs=logs,
            restart_prefect=not no_restart,
            steady_orders=steady_orders,
            steady_per_s=steady_per_s,
        )
    except Exception as exc:  # a clear line (the logs say more)
        fail(f"the latency bench failed: {exc}")
    _emit(result, as_json, ("p50_s", "p99_s", "max_s", "missing", "doubled", "load_average"))


@bench_app.command()
def scaleout(
    subscribers: Annotated[
        int, typer.Option("--subscribers", "-n", help="restock subscribers")
    ] = 2000,
    workers: Annotated[
        str, typer.Option("--workers", help="worker counts to measure, comma-separated")
    ] = "1,2,4",
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="provider answer latency")
    ] = 40.0,
    batch: Annotated[int, typer.Option("--batch", help="enrollments / messages per claim")] = 500,
    concurrency: Annotated[
        int, typer.Option("--concurrency", help="requests in flight per worker")
    ] = 16,
    postgres_url: Annotated[
        str | None,
        typer.Option(
            "--postgres-url",
            help="a PostgreSQL server whose user may create databases"
            " (default: a throwaway PostgreSQL 15 server)",
        ),
    ] = None,
    prefect: Annotated[
        bool,
        typer.Option(
            "--prefect",
            help="each round a journeykit-sweep flow run, on a Prefect server process",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """One restock fan-out on PostgreSQL, advanced and sent by 1, 2, 4 worker processes at
    once (SKIP LOCKED claims): throughput, CPU seconds and how the work divided."""
    _positive(subscribers, "--subscribers")
    _positive(batch, "--batch")
    _positive(concurrency, "--concurrency")
    try:
        counts = tuple(int(part) for part in workers.split(","))
    except ValueError:
        fail(f"--workers must be whole numbers separated by commas (got {workers!r})")
    if not counts or min(counts) < 1:
        fail(f"--workers must each be at least 1 (got {workers!r})")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from journeykit_rigs.bench.scaleout import run_scaleout

    try:
        result = run_scaleout(
            subscribers,
            workers=counts,
            latency_ms=latency_ms,
            batch=batch,
            concurrency=concurrency,
            postgres_url=postgres_url,
            prefect=prefect,
        )
    except RuntimeError as exc:  # ProcessFailed too: the Prefect server did not start
        fail(f"the scale-out bench failed: {type(exc).__name__}: {exc}")
    if as_json:
        _emit(result, True, ())
        return
    for run in result["runs"]:
        shares = [w["enrollments"] for w in run["per_worker"]]
        typer.echo(
            f"{run['workers']} worker(s): {run['messages']} messages in {run['seconds']} s,"
            f" {run['messages_per_s']}/s (x{run['speedup']}),"
            f" {run['cpu_ms_per_message']} CPU ms/message, enrollments per worker {shares}"
        )

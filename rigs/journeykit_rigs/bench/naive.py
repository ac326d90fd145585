"""The plain Prefect design, measured beside Journeykit's (``journeys bench fanout --compare
naive``): the same restock audience, each message one Prefect task run on a thread-pool
task runner (64 threads), each task loading its customer, rendering the same template with
the same context (``engine/template_context.py``, ``messaging/compose.py``: action links,
law labels, the text part), sending it through the same SDKs to the same sandbox (same
latency, same rate limits unless unthrottled) and recording a row. It does less than the
engine (no consent, quiet hours or frequency decision, no exactly-once outbox, no SendGrid
batching): the comparison is of the execution model, one task run per message against
batches. The flow runs in its own process under Prefect's test harness (a local Prefect
server process, whose CPU is counted too)."""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from sqlmodel import Session, col, func, select

from journeykit.delivery.providers.base import EmailMessage, SmsMessage
from journeykit.engine.template_context import build_context
from journeykit.foundation.models import Customer, Enrollment, OutboxMessage, RestockSignup
from journeykit.language.nodes import SendNode
from journeykit.messaging.compose import action_extras, compose
from journeykit_rigs.bench.dispatcher import run_sandbox
from journeykit_rigs.bench.pacing import ShiftedClock
from journeykit_rigs.bench.runtime import (
    START,
    bench_runtime,
    bench_settings,
    database_url,
    dialect,
)
from journeykit_rigs.bench.seed import SKU, seed_customers, seed_variant

THREADS = 64
NODES = {"email": "alert_email", "sms": "alert_sms"}  # the restock journey's alerts


def run_naive(
    subscribers: int,
    *,
    latency_ms: float = 40.0,
    unthrottled: bool = False,
    sms_per_second: float = 100.0,
    email_requests_per_second: float = 10.0,
    threads: int = THREADS,
    url: str | None = None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """The audience of ``run_fanout`` (same seed) through one task run per message; its own
    database (``url``: an empty PostgreSQL one, else a SQLite file) and its own sandbox."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        url = database_url(Path(tmp), url)
        ready, stop, out = context.Queue(), context.Event(), context.Queue()
        sandbox = context.Process(target=run_sandbox, args=(latency_ms, ready, stop), daemon=True)
        sandbox.start()
        provider_url, _port = ready.get(timeout=120)
        options = {
            "sending.sms_per_second": sms_per_second,
            "sending.email_requests_per_second": email_requests_per_second,
            "providers.sendgrid.base_url": provider_url,
            "providers.twilio.base_url": provider_url,
        }
        epoch = time.time()
        runtime = bench_runtime(url, clock=ShiftedClock(START, epoch))
        now = runtime.clock.now()
        seed_variant(runtime.engine, now, inventory=subscribers)  # in stock for everyone
        seed_customers(runtime.engine, now, subscribers, variant_id=1)
        flow = context.Process(
            target=_flow_process, args=(url, options, epoch, unthrottled, threads, out)
        )
        flow.start()
        result = out.get(timeout=24 * 3600)
        flow.join(60)
        stop.set()
        sandbox_cpu = ready.get(timeout=60)["cpu_seconds"]
        sandbox.join(30)
        if "error" in result:
            raise RuntimeError("the naive flow failed: " + result["error"])
        with Session(runtime.engine) as session:
            recorded = dict(
                session.exec(
                    select(OutboxMessage.channel, func.count())
                    .where(col(OutboxMessage.status) == "sent")
                    .group_by(OutboxMessage.channel)
                ).all()
            )
        runtime.engine.dispose()
    messages = sum(recorded.values())
    seconds = max(result["seconds"], 1e-9)
    cpu = result["cpu_seconds"]
    return {
        "design": f"one Prefect task run per message, ThreadPoolTaskRunner({threads})",
        "subscribers": subscribers,
        "messages": messages,
        "by_channel": recorded,
        "task_runs": result["task_runs"],
        "outcomes": result["outcomes"],
        "seconds": round(seconds, 3),
        "messages_per_s": round(messages / seconds, 1),
        # the flow's process (tasks, SDKs, rendering) and the Prefect server's, while it ran
        "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()}
        | {"sandbox": round(sandbox_cpu, 3)},
        "cpu_ms_per_message": round(
            1000 * (cpu["flow"] + cpu["prefect_server"]) / max(messages, 1), 3
        ),
        "peak_rss_mb": result["peak_rss_mb"],
        "database": dialect(url),
    }


def side_by_side(journeykit: dict[str, Any], naive: dict[str, Any]) -> dict[str, Any]:
    """Both results and their ratios (above 1: Journeykit is faster / cheaper)."""
    jk_cpu = journeykit.get("journeykit_cpu_ms_per_message") or 0.0
    naive_cpu = naive.get("cpu_ms_per_message") or 0.0
    return {
        "naive": naive,
        "ratio": {
            "messages_per_s": _ratio(journeykit.get("messages_per_s"), naive["messages_per_s"]),
            "cpu_ms_per_message": _ratio(naive_cpu, jk_cpu),
            "seconds": _ratio(naive["seconds"], journeykit.get("seconds")),
        },
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _flow_process(
    url: str, options: dict[str, Any], epoch: float, unthrottled: bool, threads: int, out: Any
) -> None:
    try:
        out.put(_run_flow(url, options, epoch, unthrottled, threads))
    except BaseException as exc:  # reported to the parent, never lost
        out.put({"error": f"{type(exc).__name__}: {exc}"})


def _run_flow(
    url: str, options: dict[str, Any], epoch: float, unthrottled: bool, threads: int
) -> dict[str, Any]:
    from prefect import flow, task
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.testing.utilities import prefect_test_harness

    from journeykit.delivery.providers.from_settings import build_senders
    from journeykit.delivery.ratelimit import limiter_for
    from journeykit_rigs.bench.pacing import Pacer
    from journeykit_rigs.bench.runtime import peak_rss_mb

    settings = bench_settings(options)
    runtime = bench_runtime(
        url, clock=ShiftedClock(START, epoch), settings=settings, pool_size=threads
    )
    senders = build_senders(settings)
    limit = None if unthrottled else (limiter_for(settings) or Pacer(settings))
    journey = runtime.book.get("restock")
    nodes = {n.id: n for n in journey.nodes if isinstance(n, SendNode)}
    runner: Any = ThreadPoolTaskRunner(max_workers=threads)
    renderer = runtime.get_renderer()

    @task(name="send-restock-alert")
    def send_alert(signup_id: int, customer_id: int, channel: str) -> str:
        node = nodes[NODES[channel]]
        now = runtime.clock.now()
        with Session(runtime.engine, expire_on_commit=False) as session:
            customer = session.get(Customer, customer_id)
            assert customer is not None
            enrollment = Enrollment(
                id=signup_id,
                journey=journey.name,
                version="naive",
                subject_type="sku",
                subject_key=f"sku:{SKU}|customer:{customer.external_id}",
                customer_id=customer_id,
                node_id=node.id,
                data={"channels": [channel], "wave": "alert"},
                entered_at=now,
                updated_at=now,
            )
            context = build_context(
                session, settings=settings, journey=journey, enrollment=enrollment, now=now
            )
            extras = action_extras(
                settings,
                node,
                enrollment_id=signup_id,
                customer_id=customer_id,
                now=now,
                category=journey.category,
            )
            content = compose(
                renderer,
                node,
                customer.locale,
                {**context, **extras},
                journey.category,
                extras["unsubscribe_url"],
            )
            key = f"naive:{signup_id}"
            to = (customer.email if channel == "email" else customer.phone) or ""
            if limit is not None:
                limit(channel)
            if channel == "email":
                sent = senders.email.send(
                    EmailMessage(
                        key=key,
                        to=to,
                        subject=content["subject"],
                        html=content["html"],
                        text=content["text"],
                        preheader=content.get("preheader", ""),
                        headers=content.get("headers", {}),
                        categories=(journey.name, journey.category),
                    )
                )
            else:
                sent = senders.sms.send(SmsMessage(key=key, to=to, body=content["body"]))
            session.add(
                OutboxMessage(
                    key=key,
                    journey=journey.name,
                    node_id=node.id,
                    customer_id=customer_id,
                    channel=channel,
                    category=journey.category,
                    template=node.template,
                    to_address=to,
                    status="sent" if sent.outcome == "sent" else sent.outcome,
                    due_at=now,
                    created_at=now,
                    sent_at=runtime.clock.now(),
                    attempts=1,
                    provider_id=sent.provider_id,
                    content=content,
                )
            )
            session.commit()
        return sent.outcome

    @flow(name="naive-restock", task_runner=runner)
    def restock(variant_id: int) -> list[str]:
        with Session(runtime.engine) as session:
            signups = session.exec(
                select(RestockSignup.id, RestockSignup.customer_id, RestockSignup.channel)
                .where(RestockSignup.variant_id == variant_id)
                .order_by(col(RestockSignup.id))
            ).all()
        futures = [send_alert.submit(int(i or 0), c, ch) for i, c, ch in signups]
        return [f.result() for f in futures]

    with prefect_test_harness(server_startup_timeout=120):
        server = psutil.Process().children(recursive=True)
        server_cpu = _cpu(server)
        started, cpu = time.time(), time.process_time()
        outcomes = restock(1)
        seconds, flow_cpu = time.time() - started, time.process_time() - cpu
        server_cpu = _cpu(server) - server_cpu
    runtime.engine.dispose()
    counted: dict[str, int] = {}
    for outcome in outcomes:
        counted[outcome] = counted.get(outcome, 0) + 1
    return {
        "seconds": seconds,
        "task_runs": len(outcomes),
        "outcomes": counted,
        "cpu_seconds": {"flow": flow_cpu, "prefect_server": server_cpu},
        "peak_rss_mb": peak_rss_mb(),
    }


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # gone
            continue
        total += times.user + times.system
    return total

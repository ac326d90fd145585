"""The chaos worker: one process that loops like a production worker — settle rows left in
``sending``, claim due enrollments, advance them, dispatch the due outbox to the providers
over HTTP with the real SDKs — on a clock shared with its harness. It holds no state worth
keeping: SIGKILL at any instant must be harmless.

Run as ``python -m journeykit_rigs.chaos.worker --db URL --providers URL --clock FILE
--status FILE``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from journeykit.delivery.dispatch import Senders, send_due
from journeykit.engine.advance import advance, claim_due
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime as runtime_for
from journeykit_rigs.chaos.clock import FileClock, WorkerStatus

IDLE_SLEEP_S = 0.02
DB_RETRY_S = 0.2


def build_runtime(args: argparse.Namespace) -> tuple[Runtime, Senders]:
    settings = Settings().with_changes(
        {
            "database.url": args.db,
            "providers.sendgrid.base_url": args.providers,
            "providers.twilio.base_url": args.providers,
            "web.public_base_url": args.public_url,
            "providers.timeout_seconds": args.provider_timeout,
            "sending.concurrency": args.concurrency,
        }
    )
    runtime = runtime_for(
        settings,
        engine=make_engine(args.db),
        clock=FileClock(Path(args.clock)),
        owner=f"chaos-worker-{os.getpid()}",
    )
    return runtime, chaos_senders(settings, status_callbacks=args.status_callbacks)


def chaos_senders(settings: Settings, *, status_callbacks: bool = True) -> Senders:
    """``build_senders`` without its rate limiter: the limiter is a Prefect concurrency limit
    (there is no Prefect API in a chaos run, so ``build_senders`` leaves it out too), and not
    importing Prefect saves a second of start-up at every restart after a SIGKILL.
    ``status_callbacks=False``: no Twilio StatusCallback (nothing the checks rely on)."""
    from journeykit.delivery.providers.from_settings import status_callback_url
    from journeykit.delivery.providers.sendgrid import SendGridEmailSender
    from journeykit.delivery.providers.twilio import TwilioSmsSender

    return Senders(
        email=SendGridEmailSender.from_settings(settings),
        sms=TwilioSmsSender.from_settings(settings),
        concurrency=settings.sending.concurrency,
        before_send=None,
        status_callback=status_callback_url(settings) if status_callbacks else None,
        email_batch_size=settings.sending.email_batch_size,
    )


def run_once(runtime: Runtime, senders: Senders, batch: int) -> int:
    """One pass, as a production sweep does it; returns how many things it did (0: nothing
    was due). Rows a dead worker left in ``sending`` are reconciled by ``send_due`` once
    ``reconcile_after_s`` has passed: the provider is asked before anything is resent."""
    ids = claim_due(runtime, limit=batch)
    if ids:
        advance(runtime, ids)
    report = send_due(runtime, senders, limit=batch)
    return len(ids) + report.claimed + report.reconciled + report.expired + report.deferred


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="journeykit_rigs.chaos.worker")
    parser.add_argument("--db", required=True)
    parser.add_argument("--providers", required=True, help="sandbox base URL")
    parser.add_argument("--clock", required=True, help="file holding the virtual time")
    parser.add_argument("--status", required=True, help="file the worker reports idle in")
    parser.add_argument("--public-url", default="http://127.0.0.1:9", help="the web app")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--provider-timeout", type=float, default=5.0)
    parser.add_argument(
        "--no-status-callbacks", dest="status_callbacks", action="store_false", default=True
    )
    args = parser.parse_args(argv)
    try:
        runtime, senders = build_runtime(args)
    except ValidationError as exc:  # e.g. production mode with placeholder secrets
        problems = "; ".join(str(e["msg"]) for e in exc.errors())
        print(f"journeykit worker: cannot start: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
    clock = runtime.clock
    assert isinstance(clock, FileClock)
    status = Path(args.status)
    WorkerStatus(os.getpid(), None).write(status)
    while True:
        now = clock.refresh()
        try:
            done = run_once(runtime, senders, args.batch)
        except DBAPIError as exc:  # the database went away: its transaction rolled back
            print(f"journeykit worker: database error, retrying: {exc}", file=sys.stderr)
            time.sleep(DB_RETRY_S)
            continue
        if done == 0:
            WorkerStatus(os.getpid(), now.isoformat()).write(status)
            time.sleep(IDLE_SLEEP_S)


if __name__ == "__main__":
    main()

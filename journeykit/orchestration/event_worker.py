"""The event worker behind ``journeys worker``: a long-lived process that applies the event
inbox as soon as events arrive, without a process per event (a Prefect process worker starts
one per flow run: 10-40 s on a loaded machine; issue 14's latency).

It loops: poll the inbox for events whose turn it is (every ``poll_seconds``), take their
subjects (``SubjectLocks``: on PostgreSQL two workers never run the same subject at once),
and run the batch as one in-process *async* Prefect flow run (0.12-0.2 s; named and tagged
by its subjects like the ``event`` deployment's runs, ``order #5001 · order.delayed``,
tagged ``order:5001``, ``customer:…``): apply the subjects' pending events in acceptance
order (``apply_pending``), advance the enrollments they touched and send what that queued
(``flows.advance_applied``, the same as the ``event`` deployment). An empty poll creates no
run. Correctness rests on the inbox's claim (each event applied once, in order per subject,
whoever applies it: another worker, the sweep); a SIGKILLed worker's half work is taken over
by the next claim of its events, its enrollments' and messages' leases, or the sweep.

SIGTERM / SIGINT: the batch in hand is finished (it is bounded: ``max_subjects`` subjects),
then the loop ends and the process exits 0; a second signal abandons it at once (whatever it
had not committed is simply claimed again)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prefect import flow
from prefect.client.orchestration import get_client
from sqlmodel import Session, col, select

from journeykit.delivery.ratelimit import prefect_api_configured
from journeykit.engine.advance import claimable
from journeykit.engine.runtime import Runtime
from journeykit.foundation.models import Enrollment, InboxEvent, OutboxMessage
from journeykit.orchestration.flows import (
    advance_applied,
    advance_applied_without_run,
    after_sending,
    run_batch,
)
from journeykit.orchestration.rename import event_run_name, label_current_run, subject_tags
from journeykit.orchestration.run_outcome import run_outcome
from journeykit.orchestration.shared_client import shared_prefect_client
from journeykit.orchestration.story_artifact import publish_event_story
from journeykit.service.event_inbox import SubjectLocks, apply_pending, due_heads
from journeykit.service.runtime_factory import current_runtime, use_runtime

log = logging.getLogger(__name__)

MAX_PUBLISHING = 2  # x concurrency: batches still publishing, at most, beside those in hand
API_TRUSTED_SECONDS = 2.0  # after a run ended, the next batch skips the health check
STORIES_PER_RUN = 10  # story artifacts a batch run updates (one per subject, the first ones)


@flow(name="journeykit-event", flow_run_name="{name}", log_prints=False)
async def apply_events(
    subjects: list[str], name: str, run_tags: list[str] | None = None, limit: int = 500
) -> Any:
    """Apply the pending events of ``subjects`` in acceptance order, advance what they
    touched and send what that queued: a ``journeys worker`` batch (``name`` is what the run
    is called when it starts; it is renamed after the journeys it moved). ``run_tags`` go
    on the flow run only (a ``tags()`` context would tag every task run too: a concurrency
    lease per tag and task)."""
    runtime = current_runtime()
    with shared_prefect_client():  # one client for the run's labels, tasks, artifacts
        label_current_run(None, ["journeykit", "event", *(run_tags or [])])
        applied = apply_pending(runtime, subjects=subjects, limit=limit)
        with Session(runtime.engine) as session:
            rows = session.exec(
                select(InboxEvent.type, InboxEvent.body).where(
                    col(InboxEvent.id).in_(applied.applied)
                )
            ).all()
        kinds = sorted({kind for kind, _ in rows})
        waiting = None
        if not applied.applied and (applied.waiting or applied.failed):
            waiting = next(iter({**applied.waiting, **applied.failed}.values()))
        counts = advance_applied(
            runtime,
            applied,
            title=f"{kinds[0] if len(kinds) == 1 else 'events'} · {', '.join(subjects[:3])}",
            subjects=subjects,
            kind=kinds[0] if len(kinds) == 1 else "events",
            waiting=waiting,
        )
        for _, body in rows[:STORIES_PER_RUN]:
            publish_event_story(runtime.engine, dict(body))  # story-order-<n> / -customer-<id>
    return run_outcome(counts)


@flow(name="journeykit-event", flow_run_name="{name}", log_prints=False)
async def take_over(
    ids: list[int], name: str, journeys: list[str] | None = None, limit: int = 500
) -> Any:
    """Advance due enrollments nobody claimed for a while (a worker killed between applying
    events and advancing what they touched) and send what that queued, and what waits
    queued in ``journeys`` (a batch run without Prefect queued it)."""

    def renamed(journeys: set[str], due: int) -> str:
        return f"{', '.join(sorted(journeys)) or 'nothing'} · taken over · {due} due"

    with shared_prefect_client():
        label_current_run(None, ["journeykit", "event", "takeover"])
        counts = run_batch(
            journey=None,
            limit=limit,
            ids=ids,
            title=name,
            name=renamed,
            also_send=set(journeys or []),
        )
    return run_outcome(counts)


async def prefect_api_up(timeout_s: float = 1.0) -> bool:
    """Whether the Prefect API answers within ``timeout_s`` (a fresh client: no retries; a
    server still starting up holds requests until it is ready, so a bounded wait). Without
    a configured API (the in-process ephemeral server of tests) it waits for it to start."""

    async def healthy() -> bool:
        async with get_client() as client:  # entering it talks to the server too
            return await client.api_healthcheck() is None

    try:
        return await asyncio.wait_for(healthy(), timeout_s if prefect_api_configured() else None)
    except Exception:  # refused, timed out
        return False


@dataclass
class Batch:
    """What one poll found: the subjects to run (in acceptance order) and the first pending
    event of each (its subject's later events are applied after it, in the same run)."""

    subjects: list[str]
    events: list[InboxEvent]
    sent: threading.Event = field(default_factory=threading.Event)  # its messages are sent
    released: bool = False  # its subjects are free for the next batch

    @property
    def name(self) -> str:
        """What the run is called when it starts (it is renamed after the journeys it moved):
        ``order #5001 · order.placed`` for one subject; else ``3 events · order:5001 +2
        subjects``."""
        if len(self.events) == 1:
            return event_run_name(dict(self.events[0].body))
        about = (
            self.subjects[0]
            if len(self.subjects) == 1
            else (f"{self.subjects[0]} +{len(self.subjects) - 1} subjects")
        )
        return f"{len(self.events)} events · {about}"


@dataclass
class EventWorker:
    """Polls the inbox and runs each non-empty batch as an in-process flow run, up to
    ``concurrency`` batches at once (each in a thread of its own: a batch whose run waits
    for a Prefect server that went away mid-run does not hold the next events back; those
    run without a run until the API answers again)."""

    runtime: Runtime
    poll_seconds: float = 0.2
    max_subjects: int = 20
    limit: int = 500
    concurrency: int = 2
    takeover_after_seconds: float = 5.0
    prefect_up: Callable[[], Awaitable[bool]] = prefect_api_up
    batches: int = 0
    without_prefect: int = 0
    failures: int = 0
    _locks: SubjectLocks | None = field(default=None, repr=False)
    _held: set[str] = field(default_factory=set, repr=False)  # subjects of batches in hand
    _idle_polls: int = field(default=0, repr=False)
    _api_answered_at: float = field(default=-1e9, repr=False)  # a batch's run ended (monotonic)

    def __post_init__(self) -> None:
        self._locks = SubjectLocks(self.runtime.engine)

    def poll(self) -> Batch | None:
        """The events whose turn it is, of up to ``max_subjects`` subjects no batch in hand
        and no other worker holds (now held by this one), or None."""
        assert self._locks is not None
        with Session(self.runtime.engine) as session:
            rows = due_heads(session, now=self.runtime.clock.now(), limit=self.limit)
        subjects = dict.fromkeys(row.subject for row in rows if row.subject not in self._held)
        wanted = list(subjects)[: self.max_subjects]
        if not wanted:
            return None
        taken = self._locks.take(wanted)
        if not taken:
            return None
        # another worker may have applied them between the poll and the lock: look again
        with Session(self.runtime.engine) as session:
            rows = due_heads(
                session, now=self.runtime.clock.now(), limit=self.limit, subjects=taken
            )
        still = [s for s in taken if any(row.subject == s for row in rows)]
        self._locks.release([s for s in taken if s not in still])
        if not still:
            return None
        self._held |= set(still)
        return Batch(still, [row for row in rows if row.subject in still])

    def release(self, batch: Batch) -> None:
        """Free the batch's subjects (once): its events are applied and its messages sent,
        the next events of its subjects may run (what it has left is publishing)."""
        assert self._locks is not None
        if batch.released:
            return
        batch.released = True
        self._held -= set(batch.subjects)
        self._locks.release(batch.subjects)

    async def run_once(self) -> Any | None:
        """One poll and its batch, to its end: the batch's flow run's final state (its
        counts when the Prefect API was away and it ran without a run), or what a takeover
        did, or None."""
        batch = self.poll()
        if batch is None:
            return await self.take_over_stale()
        try:
            return await asyncio.to_thread(self.execute, batch)
        finally:
            self.release(batch)

    def execute(self, batch: Batch) -> Any:
        """Run one batch here (a thread of the worker): as a flow run, or without one when
        the Prefect API is away."""

        async def batch_run() -> Any:
            if not self.api_answered_lately() and not await self.prefect_up():
                return self.run_without_prefect(batch)
            run_tags = sorted(
                {t for event in batch.events[:20] for t in subject_tags(dict(event.body))}
            )
            try:
                state = await apply_events(
                    subjects=batch.subjects,
                    name=batch.name,
                    run_tags=run_tags,
                    limit=self.limit,
                    return_state=True,
                )
                self._api_answered_at = time.monotonic()
                return state
            except Exception as exc:  # no run (the API went away as it started): run without
                log.warning("%s: no flow run (%s): running it without one", batch.name, exc)
                return self.run_without_prefect(batch)

        # one sync client for the batch, the run's own and Prefect's (the flow engine reads
        # the server's default result storage with one per run): a client costs ~25 ms of CPU
        hook = after_sending.set(batch.sent.set)
        try:
            with shared_prefect_client():
                result = asyncio.run(batch_run())
        finally:
            after_sending.reset(hook)
            batch.sent.set()
        self.batches += 1
        return result

    def api_answered_lately(self) -> bool:
        """Whether a batch's flow run ended within ``API_TRUSTED_SECONDS``: then the next
        batch skips the health check (a fresh client and a request: 0.03 s idle, 0.4 s on a
        loaded machine, before every batch). A server that went away since fails the run's
        creation, and the batch runs without a run as after a failed check."""
        return time.monotonic() - self._api_answered_at < API_TRUSTED_SECONDS

    def run_without_prefect(self, batch: Batch) -> dict[str, int]:
        """The batch without a flow run (the Prefect API is away: a server restart must not
        hold events back); logged, and counted in ``without_prefect``."""
        applied = apply_pending(self.runtime, subjects=batch.subjects, limit=self.limit)
        counts = advance_applied_without_run(self.runtime, applied)
        self.without_prefect += 1
        log.warning("Prefect API away: %s applied without a flow run: %s", batch.name, counts)
        return counts

    def stale_messages(self) -> list[str]:
        """Journeys with messages due for ``takeover_after_seconds`` and still queued (a
        batch run without Prefect, a worker killed between advancing and sending)."""
        now = self.runtime.clock.now()
        stale = now - timedelta(seconds=self.takeover_after_seconds)
        with Session(self.runtime.engine) as session:
            found = session.exec(
                select(OutboxMessage.journey)
                .where(OutboxMessage.status == "queued", col(OutboxMessage.due_at) <= stale)
                .distinct()
            ).all()
        return sorted(found)

    def stale_due(self) -> list[int]:
        """Due enrollments nobody has claimed for ``takeover_after_seconds`` (unleased, or
        their lease ran out): the half work of a worker killed mid-batch."""
        now = self.runtime.clock.now()
        stale = now - timedelta(seconds=self.takeover_after_seconds)
        with Session(self.runtime.engine) as session:
            found = session.exec(
                select(Enrollment.id)
                .where(*claimable(now), col(Enrollment.wake_at) <= stale)
                .order_by(col(Enrollment.wake_at))
                .limit(self.limit)
            ).all()
        return [int(i) for i in found if i is not None]

    async def take_over_stale(self) -> Any | None:
        """Every few idle polls (about once a second): advance stale due work, as a run."""
        self._idle_polls += 1
        if self._idle_polls * self.poll_seconds < 1.0:
            return None
        self._idle_polls = 0
        ids, journeys = self.stale_due(), self.stale_messages()
        if not (ids or journeys) or not await self.prefect_up():
            return None  # without Prefect: when it answers again (or the sweep)
        name = f"taken over · {len(ids)} due" + (
            f" · queued in {', '.join(journeys)}" if journeys else ""
        )

        async def takeover_run() -> Any:
            return await take_over(
                ids=ids, name=name, journeys=journeys, limit=self.limit, return_state=True
            )

        def run() -> Any:
            with shared_prefect_client():
                return asyncio.run(takeover_run())

        state = await asyncio.to_thread(run)
        self.batches += 1
        return state

    async def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set, up to ``concurrency`` batches in hand (applying,
        advancing, sending: a batch that has sent its messages and is publishing its artifacts
        no longer counts, and its subjects are free); then wait for them. A batch that fails
        (the database or Prefect away) is logged and its events tried again after a pause
        (they are still in the inbox)."""
        running: dict[asyncio.Task[Any], Batch] = {}
        pause = self.poll_seconds
        while not stop.is_set():
            started = False
            for sending in running.values():
                if sending.sent.is_set():
                    self.release(sending)
            in_hand = sum(not sending.sent.is_set() for sending in running.values())
            if in_hand < self.concurrency and len(running) < MAX_PUBLISHING * self.concurrency:
                try:
                    batch = self.poll()
                    if batch is None and not running:
                        await self.take_over_stale()
                    pause = self.poll_seconds
                except Exception as exc:
                    batch = None
                    pause = self._failed(exc, pause)
                if batch is not None:
                    running[self._start(batch)] = batch
                    started = True
            if not started:
                await asyncio.wait([*running, asyncio.create_task(asyncio.sleep(pause))],
                                   return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            for task in [t for t in running if t.done()]:
                del running[task]
                if task.exception() is not None:
                    pause = self._failed(task.exception(), pause)
        if running:  # the batches in hand are finished
            await asyncio.wait(running)

    def _start(self, batch: Batch) -> asyncio.Task[Any]:
        task = asyncio.create_task(asyncio.to_thread(self.execute, batch))
        task.add_done_callback(lambda _: self.release(batch))  # in this loop's thread
        return task

    def _failed(self, exc: BaseException | None, pause: float) -> float:
        self.failures += 1
        log.error("event batch failed (what it did not commit is done again)", exc_info=exc)
        return min(5.0, max(1.0, pause * 2))

    def close(self) -> None:
        if self._locks is not None:
            self._locks.close()


def serve_events(
    runtime: Runtime,
    *,
    poll_seconds: float = 0.2,
    max_subjects: int = 20,
    concurrency: int = 2,
    grace_seconds: float = 15.0,
    on_start: Callable[[], None] | None = None,
) -> int:
    """Run an ``EventWorker`` for ``runtime`` until SIGTERM or SIGINT; the batches it ran.

    The loop runs in a thread of its own (its flow runs then leave the signals to this
    one: Prefect turns a SIGTERM in the main thread into a crashed run), and the main
    thread waits for a signal: then the batch in hand is finished and the loop ends; a
    batch still running after ``grace_seconds`` (or at a second signal) is abandoned, the
    process exits at once and whatever the batch had not committed is claimed again."""
    use_runtime(lambda: runtime)
    worker = EventWorker(
        runtime, poll_seconds=poll_seconds, max_subjects=max_subjects, concurrency=concurrency
    )
    stop = threading.Event()
    signals: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        signals.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    loop = threading.Thread(
        target=lambda: asyncio.run(worker.run(stop)), name="event-worker", daemon=True
    )
    loop.start()
    if on_start is not None:
        on_start()
    try:
        while loop.is_alive() and not stop.is_set():
            loop.join(0.5)
        deadline = time.monotonic() + grace_seconds
        while loop.is_alive() and time.monotonic() < deadline and len(signals) < 2:
            loop.join(0.2)
        if loop.is_alive():
            log.warning("event worker: the batch in hand is abandoned (claimed again later)")
            logging.shutdown()
            os._exit(0)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        worker.close()
        use_runtime(None)
    return worker.batches

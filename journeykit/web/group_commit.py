"""Group commit at the door: in each web worker, the ``POST /events`` requests hand their
event to one writer, which stores everything waiting in one statement and one transaction
(:func:`journeykit.web.store_events.store_together`) and then answers each request. Every
202 still follows its commit; a request arriving while a batch is being stored waits for
that batch to end (about one database round trip) and goes in the next one, so under load
the batches grow by themselves and the CPU per event (the thread hop, the pool checkout,
the statement, PostgreSQL's transaction) is shared by the whole batch; a lone request is
stored at once, alone. Keys seen before, or twice in one batch, are answered exactly as a
request stored on its own is (replayed, 409, ``duplicate``); the database away: 503."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from anyio import to_thread

from journeykit.service.event_batches import BatchWriter, Incoming
from journeykit.web.state import WebState
from journeykit.web.store_events import Answer, body_hash, event_key, hand_on, store_together

MAX_BATCH = 64  # the statement joins a batch's rows with each other


@dataclass
class _Waiting:
    event: Incoming
    answered: asyncio.Future[tuple[Answer, str | None]]


class GroupCommit:
    """The writer of store events of one event loop (a worker process has one): the first
    ``accept`` starts the writer task, which ends when nothing waits. ``batches`` stores
    them on PostgreSQL (None: one by one, SQLite)."""

    def __init__(
        self, state: WebState, batches: BatchWriter | None, max_batch: int = MAX_BATCH
    ) -> None:
        self.state = state
        self.batches = batches
        self.max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def accept(
        self, payload: dict[str, Any], *, scope: str, key: str | None, source: str
    ) -> Answer:
        """Store a validated event under the sender's key with the next batch; the answer
        once that batch has committed (then the event is handed on as
        :func:`journeykit.web.store_events.accept_event` hands it on)."""
        request_hash = body_hash(payload) if key is not None else None
        stored_key = event_key(scope, key)
        event = Incoming(payload, stored_key, source, self.state.now(), request_hash)
        answered: asyncio.Future[tuple[Answer, str | None]] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiting.append(_Waiting(event, answered))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        answer, subject = await answered
        if subject is not None and self.state.settings.web.event_delivery != "worker":
            await to_thread.run_sync(hand_on, self.state, payload, stored_key, subject)
        return answer

    async def _write(self) -> None:
        """Store what waits, a batch at a time, until nothing waits."""
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                try:
                    answers = await to_thread.run_sync(
                        store_together, self.state, [w.event for w in batch], self.batches
                    )
                except Exception as exc:  # answered by the app's error handling, per request
                    for waiting in batch:
                        if not waiting.answered.done():
                            waiting.answered.set_exception(exc)
                    continue
                except BaseException:  # cancelled (shutdown): no request is left waiting
                    for waiting in [*batch, *self._waiting]:
                        waiting.answered.cancel()
                    self._waiting.clear()
                    raise
                for waiting, answer in zip(batch, answers, strict=True):
                    if not waiting.answered.done():  # not when its client went away
                        waiting.answered.set_result(answer)
        finally:
            self._writer = None

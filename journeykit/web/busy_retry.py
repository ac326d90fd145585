"""A busy database is retried, never a 500. SQLite answers "database is locked" when two
writers collide (a reader upgrading to a writer does not wait for the busy timeout);
PostgreSQL aborts one side of a deadlock or a serialization conflict. Such a request rolled
back and wrote nothing, so it is run again (same body) after a short, growing pause; when the
database stays busy the answer is 503 with ``Retry-After``, which clients and the providers'
webhooks retry. Nothing is retried once the response has started."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.exc import DBAPIError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from journeykit.web.request_body import read_body, replaying

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
BUSY_SQLITE = ("database is locked", "database table is locked", "database is busy")


def is_busy(exc: BaseException) -> bool:
    """True for a database error that a later try of the same transaction may not meet."""
    if not isinstance(exc, DBAPIError):
        return False
    orig: Any = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state in RETRYABLE_SQLSTATES:
        return True
    return any(text in str(orig).lower() for text in BUSY_SQLITE)


class BusyRetry:
    def __init__(self, app: ASGIApp, attempts: int = 5, first_pause_seconds: float = 0.05):
        self.app = app
        self.attempts = attempts
        self.first_pause = first_pause_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        pause = self.first_pause
        for attempt in range(1, self.attempts + 1):
            started = False

            async def tracked(message: Message) -> None:
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                await send(message)

            try:
                await self.app(scope, replaying(body, receive), tracked)
                return
            except Exception as exc:
                if started or not is_busy(exc):
                    raise
                if attempt == self.attempts:
                    break
            await asyncio.sleep(pause)
            pause *= 2
        answer = JSONResponse(
            {"detail": "the database is busy; try again in a moment"},
            status_code=503,
            headers={"Retry-After": "1"},
        )
        await answer(scope, receive, send)

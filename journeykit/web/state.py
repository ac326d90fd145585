"""What every request handler needs (settings, runtime, templates), and how touched
enrollments are moved on once a request's transaction has committed."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from journeykit.engine.advance import BatchReport, advance, claim_due
from journeykit.engine.runtime import Runtime
from journeykit.foundation.settings import Settings

log = logging.getLogger(__name__)

# (payload, idempotency key) -> None: hands a store event to Prefect instead of recording it.
Emitter = Callable[[dict[str, Any], str], None]


@dataclass
class WebState:
    settings: Settings
    runtime: Runtime
    templates: Jinja2Templates
    emit: Emitter | None = None
    reports: list[BatchReport] = field(default_factory=list)  # last few, for diagnostics

    @property
    def secret(self) -> str:
        return self.settings.web.signing_secret.get_secret_value()

    def now(self) -> Any:
        return self.runtime.clock.now()


async def get_state(request: Request) -> WebState:
    """(async: a dependency without I/O runs on the event loop, not in a worker thread)"""
    state: WebState = request.app.state.web
    return state


def move_on(state: WebState, ids: list[int]) -> BatchReport | None:
    """Advance the enrollments a committed request touched, at once, in this process. A
    failure here is logged, not raised: the action is recorded and the sweep catches up."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return None
    try:
        claimed = claim_due(state.runtime, limit=len(ids), ids=ids)
        report = advance(state.runtime, claimed) if claimed else BatchReport()
    except Exception as exc:  # the sweep will retry; the customer's action is safe
        log.error("advancing %s after a request failed: %s", ids, exc)
        return None
    state.reports = [*state.reports[-9:], report]
    return report


class EmitFailed(RuntimeError):
    """Prefect did not take the event (no API reachable, events disabled)."""


def prefect_event(payload: dict[str, Any], key: str) -> dict[str, Any]:
    """The ``journeykit.event.received`` event prefect.yaml's ``event`` deployment listens
    to (it applies the stored event and advances what it touched). The payload carries the
    inbox key, so the flow finds the event the web app stored instead of storing it again;
    the id is derived from that key, so a retried request emits the same event."""
    return {
        "event": "journeykit.event.received",
        "resource": {"prefect.resource.id": f"journeykit.event.{payload.get('type', 'unknown')}"},
        "payload": {"event": payload, "key": key},
        "id": uuid.uuid5(uuid.NAMESPACE_URL, f"journeykit:{key}"),
    }


def prefect_emitter(payload: dict[str, Any], key: str) -> None:
    """Emit the event; raise ``EmitFailed`` rather than lose it silently."""
    from prefect.events import emit_event

    if emit_event(**prefect_event(payload, key)) is None:
        raise EmitFailed("Prefect did not take the event: check PREFECT_API_URL")

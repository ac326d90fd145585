"""Give the running flow run a name and tags ops can search for: ``restock · sweep · 12 due``
or ``delay_apology · order:5001``, tagged ``journey:restock``, ``version:3f2a…``,
``channel:sms``. Tags go on the flow run (one API call), never on per-customer task runs
(task tags take concurrency leases: 0.4–0.8 s each)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

log = logging.getLogger(__name__)


def run_tags(
    journeys: Iterable[str] = (), versions: Iterable[str] = (), channels: Iterable[str] = ()
) -> list[str]:
    """``journey:x``, ``version:<8 hex>``, ``channel:email`` tags, sorted, no duplicates."""
    tags = {f"journey:{j}" for j in journeys}
    tags |= {f"version:{v[:8]}" for v in versions}
    tags |= {f"channel:{c}" for c in channels}
    return sorted(tags)


def label_current_run(name: str | None = None, tags: Iterable[str] = ()) -> None:
    """Rename the current flow run and add ``tags`` to the ones it has."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    new_tags = list(tags)
    try:
        with get_client(sync_client=True) as client:
            merged = None
            if new_tags:
                current = list(client.read_flow_run(UUID(str(run_id))).tags or [])
                merged = sorted({*current, *new_tags})
            client.update_flow_run(UUID(str(run_id)), name=name, tags=merged)
    except Exception as exc:  # the label is for people; never fail a batch over it
        log.warning("could not label flow run %s: %s", run_id, exc)


def rename_current_run(name: str) -> None:
    label_current_run(name)

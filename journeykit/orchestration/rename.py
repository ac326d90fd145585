"""Give the running flow run a name ops can search for (``journey · sweep · 12 due``)."""

from __future__ import annotations

import logging
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

log = logging.getLogger(__name__)


def rename_current_run(name: str) -> None:
    run_id = flow_run.get_id()
    if not run_id:
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(UUID(str(run_id)), name=name)
    except Exception as exc:  # the name is for people; never fail a batch over it
        log.warning("could not rename flow run %s: %s", run_id, exc)

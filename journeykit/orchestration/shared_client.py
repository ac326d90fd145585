"""One Prefect client for a whole batch. Prefect makes a new client for each call that finds
none in its context (each task run, artifact, rename, the flow engine's read of the default
result storage), and each new client builds a TLS context: ~25 ms of CPU, the largest single
cost of an event batch when it was paid per call (profiled with py-spy in the topology). Inside
``shared_prefect_client()`` they all use one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from prefect.context import SyncClientContext

log = logging.getLogger(__name__)


@contextmanager
def shared_prefect_client() -> Iterator[None]:
    """Calls inside share one sync Prefect client (the one already shared, if any). When it
    cannot be made (the API is away and this process never checked its version), each call
    makes its own as before, and fails or falls back as it would have."""
    with ExitStack() as stack:
        try:
            stack.enter_context(SyncClientContext.get_or_create())
        except Exception as exc:  # the API is away: no shared client
            log.debug("no shared Prefect client: %s", exc)
        yield

"""A long-lived worker's heap after startup, out of the garbage collector's sight.

A worker imports Prefect, SQLAlchemy, pydantic, the SDKs and the project: hundreds of
thousands of objects that live as long as the process. CPython's collector scans every
tracked object at each full collection, and a dispatch round allocates enough (a claim
batch's rows, its requests) to start one every few rounds. Measured in the fan-out
benchmark, the dispatchers spent a quarter of their CPU there (an email claim's 500
customers took 50 ms to load instead of 6).

:func:`startup_heap_frozen` wraps a started worker's loop: it collects what startup left
over and moves the rest to the permanent generation (``gc.freeze``), so later collections
scan only what the work allocates; on exit it gives them back to the collector
(``gc.unfreeze``). Reference counting frees objects as before: only a reference cycle
among the frozen objects waits until then."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def startup_heap_frozen() -> Iterator[int]:
    """Collect, then freeze every object alive now (yields how many) until the block ends."""
    gc.collect()
    gc.freeze()
    try:
        yield gc.get_freeze_count()
    finally:
        gc.unfreeze()

"""A started worker's heap is frozen while it works (``gc.freeze``: full collections skip
the imports) and given back to the collector when it stops; what the work allocates is
still collected."""

from __future__ import annotations

import gc
import weakref

from journeykit.foundation.heap import startup_heap_frozen


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_startup_heap_is_frozen_while_the_worker_works() -> None:
    assert gc.get_freeze_count() == 0
    with startup_heap_frozen() as frozen:
        assert frozen > 10_000 and gc.get_freeze_count() > 10_000  # the imports, and more
        a, b = _Node(), _Node()
        a.other, b.other = b, a  # a cycle made by the work: the collector still finds it
        gone = weakref.ref(a)
        del a, b
        gc.collect()
        assert gone() is None
    assert gc.get_freeze_count() == 0

"""How a flow run gets its ``Runtime``: from settings in a worker, or an injected one
(demo, tests: a virtual clock, a temporary database)."""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Callable
from pathlib import Path

from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import engine_for, ensure_schema
from journeykit.foundation.settings import PROJECT_ROOT, get_settings
from journeykit.timing.clock import SystemClock

_factory: Callable[[], Runtime] | None = None
_cached: Runtime | None = None


def use_runtime(factory: Callable[[], Runtime] | None) -> None:
    """Inject a runtime for flows run in this process (None: back to settings)."""
    global _factory, _cached
    _factory, _cached = factory, None


def current_runtime() -> Runtime:
    global _cached
    if _factory is not None:
        return _factory()
    if _cached is None:
        settings = get_settings()
        load_flow_modules(PROJECT_ROOT / "flows")
        ensure_schema(settings.database.url, auto_upgrade=settings.environment != "production")
        _cached = Runtime(
            engine=engine_for(settings.database.url),
            clock=SystemClock(),
            book=JourneyBook.from_dir(settings.journeys_dir),
            settings=settings,
            owner=f"{socket.gethostname()}:{os.getpid()}",
        )
    return _cached


def load_flow_modules(directory: Path) -> None:
    """Import ``flows/*.py`` so the actions and audiences they register exist."""
    for path in sorted(directory.glob("*.py")):
        name = f"journeykit_flows_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec and spec.loader:
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)

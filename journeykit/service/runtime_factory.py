"""The one way to build a ``Runtime`` (``build_runtime``), and how a flow run gets its
runtime: from settings in a worker, or an injected one (demo, tests: a virtual clock, a
temporary database)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

from sqlalchemy import Engine

from journeykit.engine.book import JourneyBook
from journeykit.engine.registry import Registry
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import engine_for, ensure_schema
from journeykit.foundation.settings import Settings, get_settings
from journeykit.service.registry_loader import project_registry
from journeykit.templating.render import TemplateRenderer
from journeykit.timing.clock import Clock, SystemClock

_factory: Callable[[], Runtime] | None = None
_cached: Runtime | None = None


def build_runtime(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    book: JourneyBook | None = None,
    registry: Registry | None = None,
    owner: str = "local",
    renderer: TemplateRenderer | None = None,
) -> Runtime:
    """A runtime for ``settings``; what is not given comes from them: the database engine
    (``settings.database.url``), the system clock, the journeys (``settings.journeys_dir``)
    and the project's registry (``[tool.journeykit]``)."""
    return Runtime(
        engine=engine if engine is not None else engine_for(settings.database.url),
        clock=clock or SystemClock(),
        book=book if book is not None else JourneyBook.from_dir(settings.journeys_dir),
        settings=settings,
        registry=registry if registry is not None else project_registry(),
        renderer=renderer,
        owner=owner,
    )


def worker_owner() -> str:
    """Who holds a claim's lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
        ensure_schema(settings.database.url, auto_upgrade=settings.environment != "production")
        _cached = build_runtime(settings, owner=worker_owner())
    return _cached

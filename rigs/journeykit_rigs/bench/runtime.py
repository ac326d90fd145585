"""The pieces every benchmark shares: a migrated database (a SQLite file, or a PostgreSQL
URL), a runtime on the project's journeys and templates, peak memory, and the machine."""

from __future__ import annotations

import os
import platform
import resource
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pendulum

from journeykit.engine.book import JourneyBook
from journeykit.engine.runtime import Runtime
from journeykit.foundation.db import make_engine, upgrade
from journeykit.foundation.settings import Settings
from journeykit.service.runtime_factory import build_runtime
from journeykit.timing.clock import Clock, VirtualClock

# A Monday afternoon: 14:00 in New York, 11:00 in San Francisco — outside SMS quiet hours.
START = pendulum.datetime(2026, 3, 2, 19, tz="UTC")


def database_url(workdir: Path, url: str | None = None) -> str:
    """``url`` (migrated as is: it should be empty), else a new SQLite file in ``workdir``."""
    url = url or f"sqlite:///{workdir}/bench.db"
    upgrade(url)
    return url


def bench_settings(changes: Mapping[str, Any] | None = None) -> Settings:
    """The settings of a benchmark, with ``changes`` (dotted paths: ``{"database.url": u}``)."""
    return Settings().with_changes(
        {"web.signing_secret": "bench-signing-secret", **(changes or {})}
    )


def bench_runtime(
    url: str,
    *,
    clock: Clock | None = None,
    owner: str = "bench",
    settings: Settings | None = None,
    book: JourneyBook | None = None,
    **engine_options: Any,
) -> Runtime:
    """A runtime on ``url`` with ``book`` (default: the project's journeys) and the project's
    templates, on a virtual clock at ``START``."""
    settings = settings or bench_settings()
    return build_runtime(
        settings,
        engine=make_engine(url, **engine_options),
        clock=clock or VirtualClock(START),
        book=book,
        owner=owner,
    )


def peak_rss_mb() -> float:
    """The peak resident memory of this process (and of finished children), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def own_rss_mb() -> float:
    """The peak resident memory of this process alone, in MB (``peak_rss_mb`` also takes
    finished children: in the fan-out, the sandbox, which keeps every request it got)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def children_rss_mb() -> float:
    """The largest peak resident memory of this process's finished children, in MB."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    """Where a result was measured."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        pages = 0
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "ram_gb": round(pages / 2**30, 1),
        "python": sys.version.split()[0],
    }


def dialect(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def iso(value: datetime) -> str:
    return value.isoformat()

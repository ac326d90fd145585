"""Everything the engine needs at run time, built once and passed down: the database, the
clock, the journeys, the settings, the registry of actions and audiences, the renderer.

Build one with ``journeykit.service.runtime_factory.build_runtime`` (it loads the project's
registry); constructing it directly is for tests that need no actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from journeykit.engine.book import JourneyBook
from journeykit.engine.registry import Registry
from journeykit.foundation.settings import Settings
from journeykit.templating.limits import TemplateLimits
from journeykit.templating.render import TemplateRenderer
from journeykit.timing.clock import Clock

# An edited template is picked up within this long (not checked on every message).
RELOAD_CHECK_SECONDS = 1.0


@dataclass
class Runtime:
    engine: Engine
    clock: Clock
    book: JourneyBook
    settings: Settings
    registry: Registry = field(default_factory=Registry)
    renderer: TemplateRenderer | None = None  # built on first use (get_renderer)
    owner: str = "local"
    cache: dict[str, Any] = field(default_factory=dict)

    def get_renderer(self) -> TemplateRenderer:
        if self.renderer is None:
            self.renderer = TemplateRenderer(
                self.settings.templates.dir,
                limits=TemplateLimits.from_settings(self.settings),
                reload_check_seconds=RELOAD_CHECK_SECONDS,
            )
        return self.renderer

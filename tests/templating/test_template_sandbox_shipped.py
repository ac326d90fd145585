"""Every shipped message renders exactly as it did before the resource limits: each send node
of each journey in ``journeys/``, in English, Korean and Japanese, through the preview's
context (sample data, actions run, links signed), once with the hardened environment and once
with Jinja's plain sandbox."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from journeykit.authoring.preview import render_messages
from journeykit.authoring.sample import PreviewInput
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.language.loading import load_journey
from journeykit.templating.filters import FILTERS
from journeykit.templating.render import TemplateRenderer
from journeykit.templating.sandbox import HardenedEnvironment, TemplateLimits

JOURNEYS = sorted((PROJECT_ROOT / "journeys").glob("*.yaml"))
CODE = re.compile(r"\b(SAVE|CREDIT)-\d+-[0-9A-F]{6}\b")  # issued at random by the actions


def same_codes(content: dict[str, Any]) -> dict[str, Any]:
    return {k: CODE.sub(r"\1-code", v) if isinstance(v, str) else v for k, v in content.items()}


class _PlainEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's sandbox as the renderer used it before the limits (no-op render scope)."""

    limits = TemplateLimits()

    def render_scope(self, max_output: int | None = None) -> AbstractContextManager[None]:
        return nullcontext()


def plain_renderer(templates: Path) -> TemplateRenderer:
    renderer = TemplateRenderer(templates)
    renderer.env = _PlainEnvironment(  # type: ignore[assignment]
        loader=FileSystemLoader(renderer.templates_dir),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html", "htm"), default=False),
        cache_size=2000,
    )
    renderer.env.filters.update(FILTERS)
    return renderer


def messages(journey_file: Path, renderer: TemplateRenderer, locale: str) -> list[Any]:
    """What ``journeys preview`` renders, with the renderer given."""
    settings = Settings().with_changes({"templates.dir": PROJECT_ROOT / "templates"})
    return render_messages(
        load_journey(journey_file), settings, PreviewInput(), locale=locale, renderer=renderer
    )


@pytest.mark.parametrize("journey_file", JOURNEYS, ids=[p.stem for p in JOURNEYS])
def test_shipped_messages_render_identically(journey_file: Path) -> None:
    hardened = TemplateRenderer(PROJECT_ROOT / "templates")
    assert isinstance(hardened.env, HardenedEnvironment)
    plain = plain_renderer(PROJECT_ROOT / "templates")
    for locale in ("en", "ko", "ja"):
        ours = messages(journey_file, hardened, locale)
        theirs = messages(journey_file, plain, locale)
        assert ours, journey_file
        for mine, before in zip(ours, theirs, strict=True):
            assert mine.error is None, mine.error
            where = (journey_file.stem, mine.node, locale)
            assert same_codes(mine.content) == same_codes(before.content), where

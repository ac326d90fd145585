"""CSS inlined once per page shape gives, byte for byte, what inlining each page gives: every
shipped email (each send node of each journey, en/ko/ja, through the preview's context), the
fixture emails, and pages built to trip the masking."""

from __future__ import annotations

import css_inline
import pytest

from journeykit.authoring.preview import render_messages
from journeykit.authoring.sample import PreviewInput
from journeykit.foundation.settings import PROJECT_ROOT, Settings
from journeykit.language.loading import load_journey
from journeykit.templating.css_inlining import ShapeCachingInliner
from journeykit.templating.render import TemplateRenderer

JOURNEYS = sorted((PROJECT_ROOT / "journeys").glob("*.yaml"))


def direct() -> css_inline.CSSInliner:
    return css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


class _Recording:
    """Stands in for the renderer's inliner: keeps each page, inlines it directly."""

    def __init__(self) -> None:
        self.pages: list[str] = []

    def inline(self, page: str) -> str:
        self.pages.append(page)
        return direct().inline(page)


def shipped_pages() -> list[str]:
    renderer = TemplateRenderer(PROJECT_ROOT / "templates")
    recording = _Recording()
    renderer._inliner = recording  # type: ignore[assignment]
    settings = Settings().with_changes({"templates.dir": PROJECT_ROOT / "templates"})
    for journey_file in JOURNEYS:
        for locale in ("en", "ko", "ja"):
            render_messages(
                load_journey(journey_file),
                settings,
                PreviewInput(),
                locale=locale,
                renderer=renderer,
            )
    return recording.pages


def test_every_shipped_email_inlines_identically() -> None:
    pages = shipped_pages()
    assert len(pages) > 20
    cached = ShapeCachingInliner(direct())
    for _ in range(2):  # the first time fills the cache, the second reads it
        for page in pages:
            assert cached.inline(page) == direct().inline(page)


STYLE = (
    "<style>p { color: red; } .x a { color: blue; }"
    " @media (max-width: 9px) { p { margin: 0; } }</style>"
)


@pytest.mark.parametrize(
    "body",
    [
        "<p>Hello Ana &amp; Bo, it&#39;s &quot;here&quot; &lt;now&gt;&nbsp;&#847;&zwnj;</p>",
        '<p class="x"><a href="https://s.example/c?a=1&amp;b=%22x%22&amp;n=Ana&#39;s">'
        "Buy &gt;</a></p>",
        "<p>loose & ampersand and &copy legacy</p>",
        '<p><a href="https://s.example/?a=1&copy=2">legacy in a link</a></p>',
        "<table><tr><td>cell</td></tr>stray text in a table</table>",
        "<pre>\nkept newline</pre>",
        "<p>line\r\nends\rhere</p>",
        "<p>\ue000 private use</p>",
        "<p><a href='https://s.example/?q=\"x\"\u00a0y'>single quotes</a></p>",
        '<p><A HREF="/upper">upper</A><a href="/plain">plain</a></p>',
        "<p>é ü 한국어 日本語 \u00a0</p>",
        "<!--[if mso]><p>outlook</p><![endif]--><p>after</p>",
    ],
)
def test_masked_inlining_matches_direct(body: str) -> None:
    head = f"<head><title>T &amp; {body[:8]}</title>{STYLE}</head>"
    page = f"<!DOCTYPE html><html>{head}<body>{body}</body></html>"
    cached = ShapeCachingInliner(direct())
    assert cached.inline(page) == direct().inline(page)
    assert cached.inline(page) == direct().inline(page)


def test_same_shape_is_inlined_once() -> None:
    calls: list[str] = []

    class Counting:
        def inline(self, page: str) -> str:
            calls.append(page)
            return direct().inline(page)

    cached = ShapeCachingInliner(Counting())  # type: ignore[arg-type]
    for name in ("Ana", "Bo", "Chloé"):
        body = f'<p>Hi {name}</p><a href="/u/{name}">x</a>'
        page = f"<html><head>{STYLE}</head><body>{body}</body></html>"
        assert cached.inline(page) == direct().inline(page)
    assert len(calls) == 1

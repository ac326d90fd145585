"""CSS inlined once per page shape instead of once per message.

What ``css_inline`` writes for a page depends on its markup (tags, classes, the style rules),
not on the words between the tags nor on the links: a restock alert to 100,000 shoppers has
one shape. :class:`ShapeCachingInliner` masks each run of text and each ``href`` value with
a numbered placeholder, inlines the masked page once per distinct shape (cached), and puts
each message's own text and links back, escaped as ``css_inline`` escapes them, so the result
is byte for byte what inlining the message itself gives (``tests/templating`` compares them
on every template). A page it cannot mask safely (``<pre>``/``<textarea>``, whose leading
newline the parser drops, text or links with ``&`` that is not a well-formed reference, a
style sheet with attribute selectors) is inlined directly."""

from __future__ import annotations

import html
import re
from collections import OrderedDict

import css_inline

# tokens: comments, raw-text elements kept whole, tags, and the text between them
_TOKEN = re.compile(
    r"(<!--.*?-->|<(?:style|script)\b.*?</(?:style|script)\s*>|<title\b[^>]*>|</title\s*>|<[^>]*>)",
    re.DOTALL | re.IGNORECASE,
)
_RAW = re.compile(r"<(?:style|script)\b", re.IGNORECASE)
_HREF = re.compile(r"""(\shref=)("([^"]*)"|'([^']*)')""", re.IGNORECASE)
_LOOSE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")
_UNSAFE = re.compile(
    r"<(?:pre|textarea|listing|plaintext|xmp|noscript|iframe|noembed|noframes)\b", re.IGNORECASE
)
_ATTRIBUTE_SELECTOR = re.compile(r"<style\b[^>]*>[^<]*\[", re.IGNORECASE)
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(_OPEN + r"(\d+)" + _CLOSE)
CACHED_SHAPES = 64


def _text_out(value: str) -> str:
    """Text as css_inline's serializer writes it."""
    return (
        value.replace("&", "&amp;")
        .replace("\u00a0", "&nbsp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def _attribute_out(value: str) -> str:
    """An attribute value as css_inline's serializer writes it (inside double quotes)."""
    return value.replace("&", "&amp;").replace("\u00a0", "&nbsp;").replace('"', "&quot;")


def _parsed(value: str) -> str:
    """What the HTML parser makes of text or an attribute value: references decoded,
    line ends normalised."""
    return html.unescape(value).replace("\r\n", "\n").replace("\r", "\n")


class ShapeCachingInliner:
    """``css_inline.CSSInliner.inline`` with the inlined shape of each page cached. Most
    text runs recur in every message (the template's own words), so a run's escaped form is
    remembered too."""

    def __init__(self, inliner: css_inline.CSSInliner, *, cached: int = CACHED_SHAPES) -> None:
        self._inliner = inliner
        self._shapes: OrderedDict[str, list[str | int]] = OrderedDict()
        self._cached = cached
        self._runs: dict[str, str | None] = {}  # a text run -> its escaped form (None: keep)

    def inline(self, page: str) -> str:
        masked = self._mask(page)
        if masked is None:
            return self._inliner.inline(page)
        shape, slots = masked
        pieces = self._shapes.get(shape)
        if pieces is None:
            inlined = self._inliner.inline(shape)
            split = _SLOT.split(inlined)  # literal, slot number, literal, ...
            if sorted(int(n) for n in split[1::2]) != list(range(len(slots))):
                return self._inliner.inline(page)  # a slot moved, vanished or doubled
            pieces = [int(p) if i % 2 else p for i, p in enumerate(split)]
            self._shapes[shape] = pieces
            if len(self._shapes) > self._cached:
                self._shapes.popitem(last=False)
        else:
            self._shapes.move_to_end(shape)
        return "".join(slots[p] if isinstance(p, int) else p for p in pieces)

    def _run(self, token: str) -> str | None:
        """A text run as css_inline writes it; None to keep it in the shape as it is
        (whitespace, which the parser may treat specially, or an ambiguous ``&``)."""
        if token in self._runs:
            return self._runs[token]
        out = None
        if not token.isspace() and not _LOOSE_AMPERSAND.search(token):
            out = _text_out(_parsed(token))
        if len(self._runs) > 20_000:
            self._runs.clear()
        self._runs[token] = out
        return out

    def _mask(self, page: str) -> tuple[str, list[str]] | None:
        if _OPEN in page or _CLOSE in page or _UNSAFE.search(page):
            return None
        if _ATTRIBUTE_SELECTOR.search(page):
            return None
        slots: list[str] = []
        parts: list[str] = []

        def href(match: re.Match[str]) -> str:
            raw = match.group(3) if match.group(3) is not None else match.group(4)
            if _LOOSE_AMPERSAND.search(raw):
                return match.group(0)
            plain = not any(c in raw for c in '&\r"\u00a0')
            slots.append(raw if plain else _attribute_out(_parsed(raw)))
            return f'{match.group(1)}"{_OPEN}{len(slots) - 1}{_CLOSE}"'

        tokens = _TOKEN.split(page)
        for index, token in enumerate(tokens):
            if index % 2:  # a tag, comment or raw-text element
                if ("href" in token or "HREF" in token) and not (
                    token.startswith("<!") or _RAW.match(token)
                ):
                    token = _HREF.sub(href, token)
                parts.append(token)
            elif not token:
                continue
            elif (out := self._run(token)) is None:
                parts.append(token)
            else:
                slots.append(out)
                parts.append(f"{_OPEN}{len(slots) - 1}{_CLOSE}")
        return "".join(parts), slots

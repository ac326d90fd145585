"""The plain-text part of an email, made from its HTML: readable text, links kept as
``label (url)``, list items as ``- item``, no Markdown marks (``**``, ``#``, ``\\-``).

Two converters with the same output conventions:

- :func:`html_to_text` (the default): a few regular-expression passes tuned to the HTML our
  layout and message templates produce (well-formed, no scripts); about 0.05 ms per email.
- :func:`html_to_text_html2text`: html2text with Markdown switched off; it copes with any HTML
  but costs about 0.7 ms per email (70 s per 100,000 messages). Pass it to
  ``TemplateRenderer(text_from_html=...)`` for hand-written HTML of unknown shape.

Both leave out ``<head>`` and the hidden preheader (between ``<!--jk:text-skip-->`` and
``<!--/jk:text-skip-->``).
"""

from __future__ import annotations

import html
import re

import html2text

_SKIP = re.compile(r"<!--jk:text-skip-->.*?<!--/jk:text-skip-->", re.DOTALL)
_DROP = re.compile(
    r"<head\b.*?</head\s*>|<style\b.*?</style\s*>|<script\b.*?</script\s*>|<!--.*?-->",
    re.DOTALL | re.IGNORECASE,
)
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a\s*>", re.DOTALL | re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_BUTTON_CLASS = re.compile(r"""\bclass\s*=\s*["'][^"']*\bbutton\b""", re.IGNORECASE)
_BREAK = re.compile(r"<br\b[^>]*>", re.IGNORECASE)
_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_BLOCK = re.compile(
    r"</?(?:p|div|h[1-6]|table|ul|ol|li|blockquote|section|header|footer|center|hr|pre)\b[^>]*>",
    re.IGNORECASE,
)
_ROW = re.compile(r"<tr\b[^>]*>", re.IGNORECASE)
_ROW_END = re.compile(r"</tr\s*>", re.IGNORECASE)
_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANKS = re.compile(r"\n{3,}")
_MD_LINK = re.compile(r"\[([^\]\n]*)\]\(<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")
_MD_BUTTON = re.compile(r"(<a\b[^>]*\bclass=\"[^\"]*\bbutton\b[^>]*>.*?</a>)", re.DOTALL)


def _link_text(label: str, url: str) -> str:
    label = " ".join(label.split())
    if url.lower().startswith("mailto:") or url.startswith("#") or not url:
        return label
    if not label or label == url:
        return url
    return f"{label} ({url})"


def link_parts(attributes: str, inner: str) -> tuple[str, str]:
    """(label, url) of an ``<a>`` tag with these attributes and inner HTML."""
    href = _HREF.search(attributes)
    url = html.unescape((href.group(1) or href.group(2) or "") if href else "")
    return html.unescape(_TAG.sub("", inner)), url


def anchors(page: str) -> list[tuple[str, str]]:
    """(attributes, inner HTML) of every ``<a>`` tag :func:`html_to_text` reads in ``page``."""
    source = _DROP.sub("", _SKIP.sub("", page)).replace("\n", " ")
    return [(m.group(1), m.group(2)) for m in _ANCHOR.finditer(source)]


def anchor_text(attributes: str, inner: str) -> str:
    """What :func:`html_to_text` writes for an ``<a>`` tag (before its final unescaping)."""
    label, url = link_parts(attributes, inner)
    text = html.escape(_link_text(label, url), quote=False)  # unescaped once, at the end
    return f"<br>{text}<br>" if _BUTTON_CLASS.search(attributes) else text


def _anchor(match: re.Match[str]) -> str:
    return anchor_text(match.group(1), match.group(2))


def _tidy(text: str) -> str:
    lines = [line.strip() for line in _SPACES.sub(" ", text).split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip() + "\n"


def html_to_text(page: str) -> str:
    """Plain text for an email's HTML, fast (see the module notes)."""
    source = _DROP.sub("", _SKIP.sub("", page))
    source = _ANCHOR.sub(_anchor, source.replace("\n", " "))
    source = _BREAK.sub("\n", source)
    source = _ITEM.sub("\n\n- ", source)
    source = _BLOCK.sub("\n\n", source)
    source = _ROW_END.sub("\n", _ROW.sub("", _CELL_END.sub(" ", source)))  # a row, a line
    return _tidy(html.unescape(_TAG.sub("", source)))


def _converter() -> html2text.HTML2Text:
    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: mail clients wrap
    converter.ignore_emphasis = True
    converter.ignore_images = True
    converter.ignore_tables = True  # layout tables: keep the text, drop the pipes
    converter.ignore_mailto_links = True
    converter.inline_links = True
    converter.protect_links = False
    converter.wrap_links = False
    converter.unicode_snob = True
    converter.ul_item_mark = "-"
    return converter


def _md_link(match: re.Match[str]) -> str:
    return _link_text(match.group(1).strip(), match.group(2))


def html_to_text_html2text(page: str) -> str:
    """Plain text for any HTML via html2text, Markdown marks removed (slower)."""
    source = _MD_BUTTON.sub(r"<br>\1<br>", _DROP.sub("", _SKIP.sub("", page)))
    text = _converter().handle(source)
    text = _MD_LINK.sub(_md_link, text)
    text = _MD_HEADING.sub("", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    return _tidy(text)

"""The plain-text part of an email, made from its HTML: readable text, links kept as
``label (url)``, no Markdown marks (``**``, ``#``, ``\\-``)."""

from __future__ import annotations

import re

import html2text

_SKIP = re.compile(r"<!--jk:text-skip-->.*?<!--/jk:text-skip-->", re.DOTALL)
_HEAD = re.compile(r"<head\b.*?</head>", re.DOTALL | re.IGNORECASE)
_BUTTON = re.compile(r"(<a\b[^>]*\bclass=\"[^\"]*\bbutton\b[^>]*>.*?</a>)", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]*)\]\(<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|])")
_BLANKS = re.compile(r"\n{3,}")


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


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1).strip(), match.group(2)
    if not label or label == url or url.startswith("#"):
        return url if not url.startswith("#") else label
    return f"{label} ({url})"


def html_to_text(page: str) -> str:
    """Plain text for an email's HTML (the hidden preheader and the <head> are left out)."""
    source = _BUTTON.sub(r"<br>\1<br>", _HEAD.sub("", _SKIP.sub("", page)))
    text = _converter().handle(source)
    text = _LINK.sub(_link, text)
    text = _HEADING.sub("", text)
    text = _ESCAPE.sub(r"\1", text)
    lines = [line.strip() for line in text.splitlines()]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip() + "\n"

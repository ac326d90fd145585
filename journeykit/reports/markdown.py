"""Markdown for Prefect artifacts, safe with stored strings: a table cell escapes what would
end the cell (``|``, a newline) or turn a customer's text into markup (emphasis, links, HTML)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# what ends a cell or starts markup inside one: code, emphasis, links and images (``!`` and
# ``(`` only mean something after ``]``), HTML and entities, strikethrough
_SPECIAL = "\\`*[]<>&|~"


def escape(text: object) -> str:
    """``text`` as literal markdown on one line: a subject ``order:1|sku:A`` stays one cell.
    An underscore inside a word (``delay_apology``) is never emphasis and stays as it is."""
    flat = " ".join(str(text).split())
    out = []
    for i, c in enumerate(flat):
        inside_word = 0 < i < len(flat) - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum()
        if c in _SPECIAL or (c == "_" and not inside_word):
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured markdown table, every cell escaped."""
    lines = [
        "| " + " | ".join(escape(h) for h in headers) + " |",
        "|" + "---|" * len(headers),
    ]
    for row in rows:
        cells = [escape(c) for c in row] + [""] * (len(headers) - len(row))
        lines.append("| " + " | ".join(cells) + " |")
    return lines

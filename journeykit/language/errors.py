"""Errors in journey files and templates, reported like a compiler does:

journeys/x.yaml:12:7: error: send node 'apology' has an unknown field 'tempalte' ...
   12 |     tempalte: delay_apology/apology
      |     ^
  hint: write 'template'
"""

from __future__ import annotations

import difflib
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]
_WIDTH = 120  # characters of a source line shown


@dataclass(frozen=True)
class SpecError:
    """One problem at ``path:line:col`` (1-based; 0 when unknown). ``snippet`` holds the
    offending source line(s); the caret goes under ``col`` of the first one."""

    path: str
    line: int
    col: int
    message: str
    hint: str | None = None
    severity: Severity = "error"
    snippet: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def location(self) -> str:
        where = display_path(self.path)
        if self.line <= 0:
            return where
        return f"{where}:{self.line}:{max(self.col, 1)}"

    def format(self) -> str:
        """``file:line:col: error: message``, the source line with a caret, and the hint."""
        out = [f"{self.location}: {self.severity}: {self.message}"]
        if self.snippet and self.line > 0:
            gutter = len(str(self.line + len(self.snippet) - 1))
            for offset, text in enumerate(self.snippet):
                start = max(0, self.col - 60) if offset == 0 else 0
                shown = ("…" if start else "") + text[start : start + _WIDTH].rstrip()
                shown += "…" if len(text) > start + _WIDTH else ""
                out.append(f"  {self.line + offset:>{gutter}} | {shown}")
                if offset == 0:
                    caret = _caret_padding(shown, self.col - start + (1 if start else 0))
                    out.append(f"  {'':>{gutter}} | {caret}^")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def format_github(self) -> str:
        """A GitHub Actions annotation (``::error file=F,line=L,col=C::message``)."""
        props = [f"file={_gh_property(display_path(self.path))}"]
        if self.line > 0:
            props += [f"line={self.line}", f"col={max(self.col, 1)}"]
        text = self.message + (f" (hint: {self.hint})" if self.hint else "")
        return f"::{self.severity} {','.join(props)}::{_gh_message(text)}"

    def with_source(self, lines: list[str]) -> SpecError:
        """This error with its source line attached (when the line exists)."""
        if self.snippet or not 0 < self.line <= len(lines):
            return self
        return replace(self, snippet=(lines[self.line - 1],))

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.message)


class SpecErrors(Exception):
    """Every problem found in one or more files (raised by the loader)."""

    def __init__(self, errors: Iterable[SpecError]):
        self.errors: list[SpecError] = sorted(errors, key=SpecError.sort_key)
        super().__init__("\n".join(e.format() for e in self.errors) or "invalid journey")

    def __str__(self) -> str:
        return "\n".join(e.format() for e in self.errors)


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """The closest choice to ``word`` (difflib), or None when nothing is close."""
    if not isinstance(word, str) or not word:
        return None
    options = sorted({c for c in choices if c})
    by_case = {c.lower(): c for c in options}
    if word.lower() in by_case and by_case[word.lower()] != word:
        return by_case[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(by_case), n=1, cutoff=0.7)
    return by_case[found[0]] if found else None


def suggestion(word: object, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` or an empty string."""
    close = did_you_mean(word, choices)
    return f" — did you mean '{close}'?" if close else ""


def quoted_list(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def display_path(path: str | os.PathLike[str]) -> str:
    """The path relative to the working directory when it is below it, else as given."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _caret_padding(text: str, col: int) -> str:
    """Spaces as wide as the first ``col - 1`` characters (tabs kept, wide characters x2)."""
    pad = []
    for char in text[: max(col - 1, 0)]:
        if char == "\t":
            pad.append("\t")
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            pad.append("  ")
        else:
            pad.append(" ")
    return "".join(pad)


def _gh_message(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_message(text).replace(":", "%3A").replace(",", "%2C")

"""YAML syntax errors in words a marketer can act on, at the line and column they happened."""

from __future__ import annotations

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from journeykit.language.errors import SpecError

_AT_OPENING = ("flow sequence", "flow mapping", "quoted scalar")
# (words in ruamel's message, our message, hint)
_KNOWN: tuple[tuple[str, str, str], ...] = (
    (
        "mapping values are not allowed here",
        "unexpected ':' in a value",
        "put the value in quotes when it contains ': ', e.g. when: \"a: b\"",
    ),
    (
        "found character '\\t'",
        "tab character in the indentation",
        "YAML is indented with spaces only: replace the tab with spaces",
    ),
    (
        "expected <block end>",
        "this line is not indented like the lines around it",
        "line keys of the same mapping up under each other, with spaces",
    ),
    (
        "could not find expected ':'",
        "a 'key: value' line is missing its ':'",
        "write key: value (with a space after the colon)",
    ),
    (
        "found undefined alias",
        "this alias (*name) refers to no anchor (&name)",
        "define the anchor first, e.g. base: &defaults {...} then <<: *defaults",
    ),
    (
        "found unexpected end of stream",
        "a quote or bracket is never closed",
        "close the quote ('…' or \"…\") or the bracket ([…] or {…}) this value opens",
    ),
    (
        "found unknown escape character",
        "unknown backslash escape in a double-quoted value",
        "use single quotes, or write \\\\ for a backslash",
    ),
    (
        "did not find expected key",
        "this line does not continue the mapping above it",
        "check the indentation and that list items start with '- '",
    ),
    (
        "expected ',' or ']'",
        "a [list] is not closed properly",
        "separate items with ', ' and end the list with ']'",
    ),
    (
        "expected ',' or '}'",
        "a {mapping} is not closed properly",
        "separate entries with ', ' and end it with '}'",
    ),
)


def syntax_error(exc: YAMLError, filename: str, text: str) -> SpecError:
    """A SpecError for a ruamel error (marks are 0-based; positions count characters)."""
    if isinstance(exc, ReaderError):
        line, col = position_of(text, exc.position)
        message = f"character {exc.character!r} is not allowed in a YAML file"
        if isinstance(exc.character, int):
            message = f"character #x{exc.character:04x} is not allowed in a YAML file"
        return SpecError(filename, line, col, message, "save the file as plain UTF-8 text")
    if isinstance(exc, MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        opened = str(exc.context or "")
        if exc.context_mark is not None and any(w in opened for w in _AT_OPENING):
            mark = exc.context_mark  # point at the bracket or quote that is never closed
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = str(exc.problem or exc.context or "invalid YAML")
        for words, message, hint in _KNOWN:
            if words in problem:
                return SpecError(filename, line, col, f"YAML syntax: {message}", hint)
        context = f" ({exc.context})" if exc.context and exc.context != problem else ""
        return SpecError(filename, line, col, f"YAML syntax: {problem}{context}")
    return SpecError(filename, 1, 1, f"YAML syntax: {exc}")


def position_of(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    index = max(0, min(index, len(text)))
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, col

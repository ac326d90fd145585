"""One error type for every way a template can fail, pointing at the template file and line."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError


class TemplateRenderError(Exception):
    """A template could not be rendered. ``template_file`` is the file's path and ``line`` its
    line number, when known; ``str()`` reads ``templates/x/y.en.email.html:12: message``."""

    def __init__(self, message: str, template_file: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.template_file = template_file
        self.line = line

    def __str__(self) -> str:
        if not self.template_file:
            return self.message
        where = _short(self.template_file)
        return f"{where}:{self.line}: {self.message}" if self.line else f"{where}: {self.message}"


def _short(path: str) -> str:
    """``templates/journey/x.en.email.html`` rather than the absolute path."""
    parts = Path(path).parts
    if "templates" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("templates") :])
    return path


def _template_frame(tb: TracebackType | None, root: Path) -> tuple[str | None, int | None]:
    """The innermost traceback entry in a template file (Jinja rewrites template frames to
    carry the template's file name and line)."""
    found: tuple[str | None, int | None] = (None, None)
    prefix = str(root)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(prefix):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _source_line(filename: str | None, line: int | None) -> str:
    if not filename or not line:
        return ""
    try:
        text = Path(filename).read_text(encoding="utf-8").splitlines()[line - 1].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        return ""
    return f" (in: {text[:120]})" if text else ""


def render_error(exc: BaseException, root: Path, name: str | None) -> TemplateRenderError:
    """A :class:`TemplateRenderError` for any exception raised while loading or rendering."""
    if isinstance(exc, TemplateRenderError):
        return exc
    fallback = str(root / name) if name else None
    if isinstance(exc, TemplateSyntaxError):
        filename = exc.filename or fallback
        return TemplateRenderError(f"syntax error: {exc.message}", filename, exc.lineno)
    filename, line = _template_frame(exc.__traceback__, root)
    filename = filename or fallback
    if isinstance(exc, SecurityError):
        message = f"blocked by the sandbox (templates cannot reach Python internals): {exc}"
    elif isinstance(exc, UndefinedError):
        message = f"undefined variable: {exc.message}"
    elif isinstance(exc, TemplateNotFound):
        message = f"template not found: {exc.name}"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return TemplateRenderError(message + _source_line(filename, line), filename, line)

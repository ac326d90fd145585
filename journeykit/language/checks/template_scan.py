"""Read one message template without rendering it: syntax, the top-level names it reads
(following extends/include/import), the ``links.<action>`` it uses, its blocks and filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import FileSystemLoader, TemplateSyntaxError, meta, nodes, select_autoescape

from journeykit.language.errors import Severity, SpecError, suggestion
from journeykit.templating.filters import FILTERS
from journeykit.templating.sandbox import HardenedEnvironment, static_limit_errors

SPECIAL_NAMES = frozenset({"self", "super", "loop", "caller", "varargs", "kwargs"})
Where = tuple[str, int]  # (template file, line)
_LIMIT_HINT = "see docs/reliability.md, 'Hostile templates: resource limits'"
_SYNTAX_HINT = (
    "a tag is left open above this line: every {% if %} needs {% endif %}, "
    "{% for %} needs {% endfor %}, {% block %} needs {% endblock %}"
)


@dataclass
class TemplateInfo:
    """What a template (with its parents and includes) needs from the render context."""

    path: Path
    source: str = ""
    errors: list[SpecError] = field(default_factory=list)
    names: dict[str, Where] = field(default_factory=dict)  # top-level name → first use
    links: dict[str, Where] = field(default_factory=dict)  # links.<action> → first use
    blocks: dict[str, int] = field(default_factory=dict)  # block defined here → line
    parents: list[str] = field(default_factory=list)  # extends chain, nearest first
    root_blocks: set[str] = field(default_factory=set)  # blocks of the last parent


def template_env(templates_dir: Path) -> HardenedEnvironment:
    """The renderer's environment (filters included) for parsing and name checks."""

    env = HardenedEnvironment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html", "htm"), default=False),
    )
    env.filters.update(FILTERS)
    return env


class TemplateScanner:
    """Scans templates under one directory, each file once."""

    def __init__(self, templates_dir: Path):
        self.templates_dir = Path(templates_dir)
        self.env = template_env(self.templates_dir)
        self._cache: dict[str, TemplateInfo] = {}
        self._by_path: dict[str, TemplateInfo] = {}

    def scan(self, relative: str, _stack: tuple[str, ...] = ()) -> TemplateInfo:
        if relative in self._cache:
            return self._cache[relative]
        info = TemplateInfo(self.templates_dir / relative)
        self._cache[relative] = info
        self._by_path[str(info.path)] = info
        try:
            info.source = info.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            info.errors.append(SpecError(str(info.path), 0, 0, f"cannot read template: {exc}"))
            return info
        try:
            ast = self.env.parse(info.source, relative, str(info.path))
        except TemplateSyntaxError as exc:
            hint = _SYNTAX_HINT if "looking for" in str(exc.message) else None
            message = f"template syntax: {exc.message}"
            info.errors.append(self.error(info, exc.lineno, message, hint))
            return info
        self._read(info, ast)
        for kind, target, line in _references(ast):
            if target in _stack or target == relative:
                continue
            if not (self.templates_dir / target).is_file():
                message = f"{kind} '{target}' but there is no such template"
                info.errors.append(self.error(info, line, message))
                continue
            child = self.scan(target, (*_stack, relative))
            info.errors.extend(e for e in child.errors if e not in info.errors)
            for name, where in child.names.items():
                info.names.setdefault(name, where)
            for action, where in child.links.items():
                info.links.setdefault(action, where)
            if kind == "extends":
                info.parents = [target, *child.parents]
                info.root_blocks = child.root_blocks or set(child.blocks)
        return info

    def error(
        self,
        info: TemplateInfo,
        line: int | None,
        message: str,
        hint: str | None = None,
        severity: Severity = "error",
        needle: str | None = None,
    ) -> SpecError:
        """An error at a template line: the caret under ``needle`` (a regex) when it is on the
        line, else under the line's first non-blank character."""
        lines = info.source.splitlines()
        line = line or 0
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        found = _in_tags(text, needle) if needle else None
        col = found + 1 if found is not None else len(text) - len(text.lstrip()) + 1
        error = SpecError(str(info.path), line, col, message, hint, severity)
        return error.with_source(lines)

    def error_at(
        self, file: str, line: int, message: str, hint: str | None = None, needle: str = ""
    ) -> SpecError:
        """An error at a line of a template scanned before."""
        info = self._by_path.get(file) or TemplateInfo(Path(file))
        return self.error(info, line, message, hint, needle=needle or None)

    def _read(self, info: TemplateInfo, ast: nodes.Template) -> None:
        undeclared = meta.find_undeclared_variables(ast) - set(self.env.globals) - SPECIAL_NAMES
        uses = sorted((n.lineno, n.name) for n in ast.find_all(nodes.Name) if n.ctx == "load")
        for line, name in uses:
            if name in undeclared:
                info.names.setdefault(name, (str(info.path), line))
        for name in undeclared:
            info.names.setdefault(name, (str(info.path), 1))
        for action, line in _links_used(ast):
            info.links.setdefault(action, (str(info.path), line))
        for block in ast.find_all(nodes.Block):
            info.blocks.setdefault(block.name, block.lineno)
        for line, reached in _internals_reached(ast):
            message = f"the template reaches for Python internals ({reached})"
            hint = "templates may only read the data they are given: no '_' names, no |attr"
            needle = rf"{re.escape(reached)}" if reached != "|attr" else r"\battr\b"
            info.errors.append(self.error(info, line, message, hint, needle=needle))
        for node in ast.find_all((nodes.Filter, nodes.Test)):
            known = self.env.filters if isinstance(node, nodes.Filter) else self.env.tests
            if node.name not in known:
                what = "filter" if isinstance(node, nodes.Filter) else "test"
                message = f"unknown {what} '{node.name}'{suggestion(node.name, known)}"
                needle = rf"\b{re.escape(node.name)}\b"
                info.errors.append(self.error(info, node.lineno, message, needle=needle))
        for line, message in static_limit_errors(self.env, ast):
            info.errors.append(self.error(info, line, message, _LIMIT_HINT))


def _internals_reached(ast: nodes.Template) -> list[tuple[int, str]]:
    """(line, what) for every private attribute read (``x._y``, ``x['__y']``) and every
    ``|attr`` filter: the ways a template climbs from its data into Python's objects."""
    found: list[tuple[int, str]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            found.append((node.lineno, node.attr))
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            found.append((node.lineno, node.arg.value))
        elif isinstance(node, nodes.Filter) and node.name == "attr":
            found.append((node.lineno, "|attr"))
    return sorted(found)


def _in_tags(text: str, needle: str) -> int | None:
    """Where ``needle`` first matches inside a {{ … }} or {% … %} on this line (else anywhere)."""
    for tag in re.finditer(r"\{\{.*?(\}\}|$)|\{%.*?(%\}|$)", text):
        found = re.compile(needle).search(text, tag.start(), tag.end())
        if found:
            return found.start()
    anywhere = re.search(needle, text)
    return anywhere.start() if anywhere else None


def _references(ast: nodes.Template) -> list[tuple[str, str, int]]:
    """(extends|includes|imports, template name, line) for names written as plain strings."""
    found = []
    kinds = {nodes.Extends: "extends", nodes.Include: "includes"}
    for node in ast.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        target = getattr(node, "template", None)
        if isinstance(target, nodes.Const) and isinstance(target.value, str):
            kind = kinds.get(type(node), "imports")
            found.append((kind, target.value, node.lineno))
    return found


def _links_used(ast: nodes.Template) -> list[tuple[str, int]]:
    found = []
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "links":
            found.append((node.attr, node.lineno))
    for item in ast.find_all(nodes.Getitem):
        if (
            isinstance(item.node, nodes.Name)
            and item.node.name == "links"
            and isinstance(item.arg, nodes.Const)
            and isinstance(item.arg.value, str)
        ):
            found.append((item.arg.value, item.lineno))
    return sorted(found, key=lambda pair: pair[1])

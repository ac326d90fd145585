"""A report as one self-contained HTML page: inline CSS and inline SVG charts, no script and
no link to anything outside the file, so it opens offline and can be mailed as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Card:
    key: str
    label: str
    value: str
    note: str = ""


@dataclass
class Chart:
    name: str
    svg: Markup


@dataclass
class Table:
    name: str
    caption: str
    headers: list[str]
    rows: list[list[str]]


@dataclass
class VerdictLine:
    split: str
    text: str


@dataclass
class Section:
    id: str
    title: str
    intro: str = ""
    cards: list[Card] = field(default_factory=list)
    verdicts: list[VerdictLine] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Page:
    title: str
    subtitle: str
    generated: datetime
    sections: list[Section] = field(default_factory=list)


def render_page(page: Page) -> str:
    return _TEMPLATES.get_template("page.html").render(
        page=page, generated=f"{page.generated:%Y-%m-%d %H:%M} UTC"
    )


def write_page(page: Page, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(page), encoding="utf-8")
    return path

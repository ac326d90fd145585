"""A report page as a Prefect markdown artifact (shown in the Prefect UI beside the run):
the same cards, verdicts, tables and charts (the SVG as an image data URI)."""

from __future__ import annotations

import asyncio
import base64

from journeykit.reports.markdown import escape
from journeykit.reports.page import Page


def _cell(text: str) -> str:
    return escape(text)


def page_markdown(page: Page) -> str:
    lines = [f"# {page.title}", "", page.subtitle, ""]
    for section in page.sections:
        lines += [f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        lines += [
            f"- **{c.label}**: {c.value}" + (f" ({c.note})" if c.note else "")
            for c in section.cards
        ]
        lines += [""] + [f"**{v.split}**: {v.text}" for v in section.verdicts] + [""]
        for chart in section.charts:
            data = base64.b64encode(str(chart.svg).encode()).decode()
            lines += [f"![{chart.name}](data:image/svg+xml;base64,{data})", ""]
        for table in section.tables:
            lines += [f"**{table.caption}**", ""]
            lines.append("| " + " | ".join(_cell(h) for h in table.headers) + " |")
            lines.append("|" + "---|" * len(table.headers))
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
            lines.append("")
        lines += [*section.notes, ""]
    return "\n".join(lines)


def artifact_key(name: str) -> str:
    """Prefect artifact keys allow lower-case letters, digits and dashes only."""
    return "report-" + name.lower().replace("_", "-")


def publish_page(page: Page, name: str) -> str:
    """Create (a new version of) the keyed markdown artifact; returns its key."""
    from prefect.artifacts import acreate_markdown_artifact

    key = artifact_key(name)
    asyncio.run(acreate_markdown_artifact(page_markdown(page), key=key, description=page.title))
    return key

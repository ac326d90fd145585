"""A story (reports/story.py) as markdown, for its Prefect artifact: the facts, then the
timeline as a table whose cells are escaped (stored strings never become markup)."""

from __future__ import annotations

from journeykit.reports.markdown import escape, table
from journeykit.reports.story import Story


def story_markdown(story: Story, *, limit: int = 500) -> str:
    lines = [f"# {escape(story.title)}", ""]
    lines += [f"- **{escape(name)}**: {escape(value)}" for name, value in story.facts]
    lines += ["", f"## Timeline ({len(story.entries)} entries, UTC)", ""]
    rows = [
        (e.at.strftime("%Y-%m-%d %H:%M:%S"), e.kind, e.what, e.detail)
        for e in story.entries[:limit]
    ]
    lines += table(("when", "kind", "what", "detail"), rows)
    if len(story.entries) > limit:
        lines.append(f"| … {len(story.entries) - limit} more | | | |")
    if not story.entries:
        lines.append("| | | nothing recorded yet | |")
    return "\n".join(lines) + "\n"

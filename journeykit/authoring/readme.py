"""Keep the README's journey diagrams in step with docs/graphs.md (which `journeys graph
--docs` writes from journeys/): ``python -m journeykit.authoring.readme [--check]``."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from journeykit.foundation.settings import PROJECT_ROOT

START, END = "<!-- journey-diagrams:start -->", "<!-- journey-diagrams:end -->"
_SECTION = re.compile(r"^## (\w+)\n.*?(```mermaid\n.*?```)", re.S | re.M)


def diagrams_section(graphs_md: str) -> str:
    """Each journey's heading and Mermaid block from docs/graphs.md, between the markers."""
    parts = [
        f"<details><summary><b>{name}</b></summary>\n\n{block}\n\n</details>"
        for name, block in _SECTION.findall(graphs_md)
    ]
    return "\n".join([START, *parts, END])


def updated_readme(readme: str, graphs_md: str) -> str:
    before, rest = readme.split(START, 1)
    _, after = rest.split(END, 1)
    return before + diagrams_section(graphs_md) + after


def main(argv: list[str]) -> int:
    readme_path = PROJECT_ROOT / "README.md"
    graphs = (PROJECT_ROOT / "docs" / "graphs.md").read_text()
    current = readme_path.read_text()
    wanted = updated_readme(current, graphs)
    if "--check" in argv:
        if wanted != current:
            print("README.md diagrams differ from docs/graphs.md: run "
                  "`python -m journeykit.authoring.readme`", file=sys.stderr)  # fmt: skip
            return 1
        return 0
    Path(readme_path).write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

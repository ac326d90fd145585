from __future__ import annotations

from journeykit.authoring.readme import END, START, diagrams_section, main, updated_readme

GRAPHS = """# Journey diagrams

## alpha

Starts on x.

```mermaid
flowchart TD
  a --> b
```

## beta

```mermaid
flowchart TD
  c --> d
```
"""


def test_section_holds_each_diagram() -> None:
    section = diagrams_section(GRAPHS)
    assert section.startswith(START) and section.endswith(END)
    assert "<b>alpha</b>" in section and "a --> b" in section and "c --> d" in section


def test_update_replaces_only_the_section() -> None:
    readme = f"intro\n{START}\nold\n{END}\noutro\n"
    new = updated_readme(readme, GRAPHS)
    assert new.startswith("intro\n") and new.endswith("\noutro\n") and "old" not in new


def test_readme_diagrams_match_docs_graphs() -> None:
    assert main(["--check"]) == 0, "run `python -m journeykit.authoring.readme`"

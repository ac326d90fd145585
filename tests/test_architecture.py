"""docs/architecture.md's layer table is the import contract in pyproject.toml, and the contract
holds: `lint-imports` passes on the tree and fails on a deliberate upward import."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contract_layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["id"] == "layers"]
    return [sorted(p.strip() for p in row.split("|")) for row in layers["layers"]]


def _documented_layers() -> list[list[str]]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("<!-- layers:", 1)[1]
    rows = []
    for line in table.splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not cells[0].isdigit():
            continue
        rows.append((int(cells[0]), sorted(re.findall(r"`(\w+)`", cells[1]))))
    assert [n for n, _ in rows] == sorted((n for n, _ in rows), reverse=True)
    return [packages for _, packages in rows]


def test_the_docs_table_is_the_contract() -> None:
    assert _documented_layers() == _contract_layers()


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in (ROOT / "journeykit").iterdir() if (p / "__init__.py").exists()}
    assert packages == {name for row in _contract_layers() for name in row}


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": f"{tree}:{tree / 'rigs'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_contracts_hold_and_catch_an_upward_import(tmp_path: Path) -> None:
    kept = _lint(ROOT)
    assert kept.returncode == 0, kept.stdout + kept.stderr

    tree = tmp_path / "tree"
    shutil.copytree(
        ROOT / "journeykit", tree / "journeykit", ignore=shutil.ignore_patterns("*.pyc")
    )
    shutil.copytree(ROOT / "rigs", tree / "rigs", ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    clock = tree / "journeykit" / "timing" / "clock.py"
    clock.write_text(clock.read_text() + "\nfrom journeykit.engine import advance  # upward\n")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "journeykit.timing.clock -> journeykit.engine.advance" in broken.stdout


def test_no_contract_has_exceptions() -> None:
    """The layers hold without ``ignore_imports``: the registry type lives in the engine and
    the built-in actions are read into it from above (service/registry_loader.py)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert [c["id"] for c in config["contracts"] if c.get("ignore_imports")] == []


# Imported where used, for start-up time only: the CLI's commands (each imports what it runs)
# and a few heavy third-party packages. Anything of ours inside a function would hide a cycle.
DEFERRED_OK = ("prefect", "alembic", "dotenv", "babel")


def test_no_import_of_ours_hides_inside_a_function() -> None:
    import ast

    hidden = []
    for path in sorted((ROOT / "journeykit").rglob("*.py")):
        if path.relative_to(ROOT).parts[1] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and sub.module:
                    names = [sub.module]
                elif isinstance(sub, ast.Import):
                    names = [alias.name for alias in sub.names]
                else:
                    continue
                hidden += [
                    f"{path.relative_to(ROOT)}:{sub.lineno} {name}"
                    for name in names
                    if not name.startswith(DEFERRED_OK)
                ]
    assert hidden == []

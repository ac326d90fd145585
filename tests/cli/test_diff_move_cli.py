"""``journeys diff`` and ``journeys move`` on a real SQLite database with a customer
waiting in version 1 of a journey."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from journeykit.foundation.models import Enrollment
from tests.authoring.conftest import V1, V2


def files(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "care_v1.yaml", tmp_path / "care_v2.yaml"
    old.write_text(V1)
    new.write_text(V2)
    return old, new


def flat(text: str) -> str:
    return " ".join(text.split())


def test_diff_two_files_node_by_node(cli, tmp_path: Path) -> None:
    old, new = files(tmp_path)
    result = cli("diff", str(old), str(new))
    assert result.exit_code == 0, result.output
    out = flat(result.output)
    assert "care: " in out and "care_v1.yaml → " in out
    assert '│ receipt │ changed │ next │ "pause" │ "settle" │' in out
    assert '│ done │ changed │ reason │ "completed" │ "finished" │' in out
    assert "│ pause │ removed │" in out and "│ settle │ added │" in out


def test_diff_counts_live_enrollments_and_reads_versions_from_the_database(
    cli, tmp_path: Path, waiting
) -> None:
    old, new = files(tmp_path)
    result = cli("diff", str(old), str(new), "--database-url", waiting.url, "--json")
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.output)
    live = {n["node"]: n["live"] for n in data["nodes"]}
    assert live["pause"] == 1 and live["settle"] == 0
    by_version = cli(
        "diff", f"care@{waiting.v1[:8]}", f"care@{waiting.v2[:8]}", "--database-url", waiting.url
    )
    assert by_version.exit_code == 0, by_version.output
    assert f"care@{waiting.v1}" in by_version.output and "journeys move" in by_version.output


def test_move_dry_run_then_unmapped_error_then_apply(cli, waiting) -> None:
    h = waiting
    base = ("move", "care", "--to", h.v2[:10], "--database-url", h.url)
    unmapped = cli(*base, "--dry-run")
    assert unmapped.exit_code == 1
    said = flat(unmapped.output)
    assert "pause │ unmapped │ 1" in said and "--map OLD_NODE=NEW_NODE" in said
    dry = cli(*base, "--map", "pause=settle", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "pause │ settle │ 1" in flat(dry.output) and "dry run: nothing was changed" in dry.output
    with h.session() as s:
        assert s.exec(select(Enrollment)).one().version == h.v1
    done = cli(*base, "--map", "pause=settle")
    assert done.exit_code == 0, done.output
    assert f"moved 1 enrollments to {h.v2}" in done.output
    with h.session() as s:
        row = s.exec(select(Enrollment)).one()
    assert (row.version, row.node_id) == (h.v2, "settle")
    again = cli(*base, "--map", "pause=settle")
    assert again.exit_code == 0 and "nothing to move" in again.output


def test_move_to_current_snapshots_the_file(cli, tmp_path: Path, waiting) -> None:
    journeys = tmp_path / "journeys"
    journeys.mkdir()
    (journeys / "care.yaml").write_text(V2)
    result = cli(
        "move",
        "care",
        "--to",
        "current",
        "--map",
        "pause=settle",
        "--database-url",
        waiting.url,
        "--journeys",
        str(journeys),
    )
    assert result.exit_code == 0, result.output
    assert "moved 1 enrollments" in result.output


def test_move_bad_version_and_mapping(cli, waiting) -> None:
    bad = cli("move", "care", "--to", "ffff", "--database-url", waiting.url)
    assert bad.exit_code == 1 and "care has no version 'ffff'" in flat(bad.output)
    bad_map = cli(
        "move", "care", "--to", waiting.v2, "--map", "pause", "--database-url", waiting.url
    )
    assert bad_map.exit_code == 1 and "write OLD_NODE=NEW_NODE" in flat(bad_map.output)

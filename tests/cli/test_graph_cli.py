"""``journeys graph``: Mermaid on stdout, SVG/PNG files, and docs/graphs.md kept in sync."""

from __future__ import annotations

import shutil

import pytest

from journeykit.spec.load import load_journey
from tests.cli.conftest import JOURNEYS, ROOT

NAMES = sorted(p.stem for p in JOURNEYS.glob("*.yaml"))


def test_mermaid_shows_waits_outcomes_conditions_splits_and_exits(cli) -> None:
    result = cli("graph", "delay_apology")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("flowchart TD\n")
    assert 'offer_expired(["offer_expired<br/>wait 1d"])' in out
    assert 'wait_choice -->|"expedite"| do_expedite' in out
    assert 'wait_choice -->|"nothing in 3d"| offer_expired' in out
    assert 'done((("exit: completed")))' in out
    assert "ends at once on: order.shipped, order.cancelled" in out
    cart = cli("graph", "abandoned_cart").output
    assert 'second_message -->|"offer 50%"| make_discount' in cart
    assert "#124; list #124; length &gt; 0" not in cart  # pipes escaped, text kept
    assert "selectattr('_variant.inventory', 'gt', 0) #124; list #124; length > 0" in cart


def test_every_edge_of_every_journey_is_drawn(cli) -> None:
    import re

    from journeykit.spec.nodes import successors

    arrow = re.compile(r"^  (\w+) -->(?:\|.*\|)? (\w+)$", re.MULTILINE)
    for name in NAMES:
        journey = load_journey(JOURNEYS / f"{name}.yaml")
        drawn = arrow.findall(cli("graph", name).output)
        wanted = [("__start__", journey.start_id)]
        wanted += [(node.id, target) for node in journey.nodes for target in successors(node)]
        assert drawn == wanted, name


def test_docs_graphs_md_matches_what_graph_prints(cli) -> None:
    docs = (ROOT / "docs" / "graphs.md").read_text(encoding="utf-8")
    for name in NAMES:
        block = "```mermaid\n" + cli("graph", name).output + "```"
        assert block in docs, f"docs/graphs.md is stale for {name}: run `journeys graph --docs`"
    check = cli("graph", "--docs", str(ROOT / "docs" / "graphs.md"), "--check")
    assert check.exit_code == 0, check.output


def test_docs_check_fails_on_a_stale_page(cli, tmp_path) -> None:
    page = tmp_path / "graphs.md"
    page.write_text("# old\n")
    result = cli("graph", "--docs", str(page), "--check")
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert cli("graph", "--docs", str(page)).exit_code == 0
    assert cli("graph", "--docs", str(page), "--check").exit_code == 0


def test_svg_from_a_journey_file(cli, tmp_path) -> None:
    out = tmp_path / "restock.svg"
    result = cli("graph", str(JOURNEYS / "restock.yaml"), "--format", "svg", "--out", str(out))
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert "<svg" in svg and "alert_email" in svg and "sold_out" in svg


def test_pure_python_svg_when_graphviz_is_missing() -> None:
    from journeykit.authoring.graph_image import layered_svg

    svg = layered_svg(load_journey(JOURNEYS / "backorder.yaml"))
    assert (
        svg.startswith("<svg")
        and svg.count("<rect") == len(load_journey(JOURNEYS / "backorder.yaml").nodes) + 1
    )


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_png_with_graphviz(cli, tmp_path) -> None:
    out = tmp_path / "g.png"
    assert cli("graph", "review_request", "-f", "png", "-o", str(out)).exit_code == 0
    assert out.read_bytes().startswith(b"\x89PNG")


def test_unknown_journey_and_broken_file_are_one_clear_error(cli, tmp_path) -> None:
    result = cli("graph", "nope")
    assert result.exit_code == 1
    assert "no journey named 'nope'" in result.output and "delay_apology" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsubject: order\nnodes: []\n")
    result = cli("graph", str(broken))
    assert result.exit_code == 1
    assert "broken.yaml" in result.output and "Traceback" not in result.output

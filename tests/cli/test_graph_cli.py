"""``journeys graph``: Mermaid on stdout, SVG/PNG files, and docs/graphs.md kept in sync."""

from __future__ import annotations

import shutil

import pytest

from journeykit.language.loading import load_journey
from tests.cli.conftest import JOURNEYS, ROOT

NAMES = sorted(p.stem for p in JOURNEYS.glob("*.yaml"))


EVERY_KIND = """
name: every_kind
trigger: {event: order.placed}
subject: order
category: transactional
exit_when: [order.cancelled]
nodes:
  - {id: hello, type: send, channel: email, template: t/hello, actions: [yes], next: pause}
  - {id: pause, type: wait, duration: 2d, next: morning}
  - {id: morning, type: wait, until: "09:30", next: workdays}
  - {id: workdays, type: wait, business_days: 3, at: "10:00", next: answer}
  - id: answer
    type: wait_for
    outcomes: [{action: "yes", next: big}, {event: order.shipped, next: done}]
    timeout: 1w
    on_timeout: done
  - id: big
    type: branch
    branches: [{when: "order.total_cents > 100 and 'vip' in order.tags|list", next: ab}]
    otherwise: done
  - id: ab
    type: split
    variants: [{name: a, weight: 3, next: tag}, {name: b, weight: 1, next: done}]
  - {id: tag, type: call, action: tag_backorder, next: done}
  - {id: done, type: exit, reason: finished}
"""


def test_mermaid_shows_waits_outcomes_conditions_splits_and_exits(cli, tmp_path) -> None:
    path = tmp_path / "every_kind.yaml"
    path.write_text(EVERY_KIND)
    result = cli("graph", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "flowchart TD"
    for line in (
        '  __start__(("start: order.placed"))',
        '  hello["hello<br/>send email: t/hello"]',
        '  pause(["pause<br/>wait 2d"])',
        '  morning(["morning<br/>wait until 09:30 local time"])',
        '  workdays(["workdays<br/>wait 3 business days at 10:00"])',
        '  answer(["answer<br/>wait up to 1w for what happens first"])',
        '  big{"big<br/>check"}',
        '  ab{"ab<br/>A/B split"}',
        '  tag[["tag<br/>do: tag_backorder"]]',
        '  done((("exit: finished")))',
        "  __start__ --> hello",
        "  hello --> pause",
        '  pause -->|"2d"| morning',
        '  answer -->|"yes"| big',
        '  answer -->|"order.shipped"| done',
        '  answer -->|"nothing in 1w"| done',
        "  big -->|\"order.total_cents > 100 and 'vip' in order.tags#124;list\"| ab",
        '  big -->|"else"| done',
        '  ab -->|"a 75%"| tag',
        '  ab -->|"b 25%"| done',
        '  exit_when{{"ends at once on: order.cancelled"}}',
        "  class hello send",
        "  class pause,morning,workdays,answer wait",
        "  class done exit",
    ):
        assert line in lines, line


def test_every_edge_of_every_journey_is_drawn(cli) -> None:
    import re

    from journeykit.language.nodes import successors

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
    said = "".join(result.output.split())  # the error console wraps long paths
    assert "broken.yaml:1:1:error:" in said and "Traceback" not in said

"""``journeys simulate --html``: the timeline as a page with every message inline."""

from __future__ import annotations

import html
from pathlib import Path

from tests.cli.conftest import ROOT

SCENARIOS = ROOT / "tests" / "scenarios"


def test_emails_inline_in_sandboxed_iframes_and_actions_listed(cli, tmp_path: Path) -> None:
    page = tmp_path / "out" / "d2.html"
    scenario = SCENARIOS / "D2_keep_order_free_express.yaml"
    result = cli("simulate", "--scenario", str(scenario), "--html", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "<script" not in text
    assert text.count('<iframe sandbox=""') == 2  # the apology and the confirmation
    assert "<b>Subject:</b> We&#x27;re sorry: order #6001 is running late" in text
    assert "customer chose <b>expedite</b>" in text
    start = text.index('srcdoc="') + len('srcdoc="')
    email = html.unescape(text[start : text.index('"', start)])
    assert "<html" in email and "Priya" in email  # the email's own HTML, escaped into srcdoc
    assert "We&#x27;re sorry" in result.output or "We're sorry" in result.output


def test_sms_shown_as_text_with_segments(cli, tmp_path: Path) -> None:
    page = tmp_path / "sms.html"
    scenario = SCENARIOS / "D1_apologise_at_once.yaml"
    result = cli("simulate", "--scenario", str(scenario), "--html", str(page))
    assert result.exit_code == 0, result.output
    text = page.read_text()
    assert "<pre class='sms'>Journeykit Store: we&#x27;re sorry, order #5001 is delayed." in text
    assert "segment(s), GSM-7, to +14155550142" in text


def test_a_directory_of_scenarios_is_checked_against_their_expectations(
    cli, tmp_path: Path
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    good = SCENARIOS / "D2_keep_order_free_express.yaml"
    (folder / "good.yaml").write_text(good.read_text())
    (folder / "wrong.yaml").write_text(
        good.read_text().replace("node: expedite_confirmation", "node: credit_confirmation")
    )
    (folder / "other.yaml").write_text("journey: nope\nevents: [{at: P0D, event: order.placed}]\n")
    result = cli("simulate", "--scenario", str(folder), "--html", str(tmp_path / "pages"))
    assert result.exit_code == 1, result.output
    out = " ".join(result.output.split())
    assert "│ good.yaml │ delay_apology │ 2 │ as expected │" in out
    assert "│ wrong.yaml │ delay_apology │ 2 │ entry 2: node 'expedite_confirmation' ≠ " in out
    assert "no journey named 'nope'" in out
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == ["good.html", "wrong.html"]
    only = cli("simulate", "restock", "--scenario", str(folder))
    assert only.exit_code == 0 and "good.yaml" not in only.output

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

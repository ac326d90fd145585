"""``journeys preview``: every message rendered through the engine's context; emails as HTML
files with their text part, SMS with segments and encoding."""

from __future__ import annotations

from pathlib import Path

from journeykit.language.loading import load_journey
from tests.cli.conftest import ROOT


def test_every_message_of_a_journey_with_sample_data(cli, tmp_path: Path) -> None:
    result = cli("preview", "delay_apology", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "apology_email.en.html").read_text()
    assert "1042" in page and "Harbor 3-Seat Sofa" in page  # sample order from the catalog
    assert "/a/" in page  # signed action links, as the engine makes them
    text = (tmp_path / "apology_email.en.txt").read_text()
    assert text.startswith("Subject: We're sorry: order #1042 is running late")
    journey = load_journey(ROOT / "journeys" / "delay_apology.yaml")
    emails = [n.id for n in journey.nodes if n.type == "send" and n.channel == "email"]
    assert sorted(p.name for p in tmp_path.glob("*.html")) == sorted(f"{e}.en.html" for e in emails)
    credit = (tmp_path / "credit_confirmation.en.txt").read_text()
    assert "CREDIT-" in credit  # the issue_store_credit action ran on the sample order
    assert "apology_sms · sms · delay_apology/apology · en · 2 segments, GSM-7" in result.output
    assert "Reply 1 for free express shipping" in result.output
    sends = [n for n in journey.nodes if n.type == "send"]
    assert f"{len(sends)} messages rendered, {len(emails)} emails written to" in result.output


def test_one_node_in_korean_is_ucs2(cli) -> None:
    result = cli("preview", "abandoned_cart", "--node", "reminder_sms", "--locale", "ko")
    assert result.exit_code == 0, result.output
    assert "reminder_sms · sms · abandoned_cart/reminder · ko · 2 segments, UCS-2" in result.output
    assert "장바구니" in result.output
    assert "1 message rendered" in result.output


def test_sms_above_the_configured_segments_warns(cli, monkeypatch) -> None:
    from journeykit.foundation.settings import get_settings

    monkeypatch.setenv("JOURNEYKIT_TEMPLATES__SMS_WARN_SEGMENTS", "1")
    get_settings.cache_clear()
    try:
        result = cli("preview", "delay_apology", "--node", "apology_sms")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "warning: 2 segments is more than 1" in result.output


def test_a_customer_file_and_a_scenario_file_give_the_data(cli, tmp_path: Path) -> None:
    person = tmp_path / "mina.yaml"
    person.write_text(
        "customer: {id: C-9, first_name: Mina, locale: ja, email: mina@example.com}\n"
        "subject: {cart: {token: c-9, lines: [{sku: SOFA-GREY, quantity: 1}]}}\n"
    )
    result = cli("preview", "abandoned_cart", "--customer", str(person), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "reminder_email.ja.html").read_text()
    assert "Mina" in page and "Harbor 3-Seat Sofa" in page
    scenario = ROOT / "tests" / "scenarios" / "D1_apologise_at_once.yaml"
    result = cli("preview", "delay_apology", "--customer", str(scenario), "--node", "apology_sms")
    assert result.exit_code == 0, result.output
    assert "order #5001" in result.output


def test_bad_input_is_one_clear_error(cli, tmp_path: Path) -> None:
    result = cli("preview", "restock", "--node", "nope")
    assert result.exit_code == 1
    assert "restock has no send node 'nope'" in result.output
    assert "alert_email" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("customer: {id: C-1, locale: 12, shoe_size: 9}\n")
    result = cli("preview", "restock", "--customer", str(bad))
    assert result.exit_code == 1
    said = "".join(result.output.split())  # the error console wraps long paths
    assert "bad.yaml:customer.locale:Inputshouldbeavalidstring" in said
    assert "Traceback" not in said


def test_a_template_error_is_reported_on_its_message(cli, tmp_path: Path, monkeypatch) -> None:
    templates = tmp_path / "templates"
    (templates / "_layouts").mkdir(parents=True)
    (templates / "_layouts" / "email.html").write_text("{% block body %}{% endblock %}")
    (templates / "t").mkdir()
    (templates / "t" / "hi.en.sms.txt").write_text("Hi {{ customer.nickname }}")
    journey = tmp_path / "hi.yaml"
    journey.write_text(
        "name: hi\ntrigger: {event: order.placed}\nsubject: order\ncategory: transactional\n"
        "nodes:\n  - {id: hello, type: send, channel: sms, template: t/hi}\n"
    )
    from journeykit.foundation.settings import get_settings

    monkeypatch.setenv("JOURNEYKIT_TEMPLATES__DIR", str(templates))
    get_settings.cache_clear()
    try:
        result = cli("preview", str(journey))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "hello · sms · t/hi" in result.output and "nickname" in result.output

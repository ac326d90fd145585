"""The choice page states what the customer is choosing: the ship window as the email shows
it (calendar dates, one formatter), when the offer closes (date, time, zone) and, for store
credit, the amount."""

from __future__ import annotations

import html
import re

from tests.web.conftest import Web
from tests.web.test_action_links import token_of


def page_text(web: Web, action: str, lang: str | None = None) -> str:
    path = web.links("apology_email")[action] + (f"?lang={lang}" if lang else "")
    page = web.client().get(path)
    assert page.status_code == 200
    return html.unescape(page.text).replace("\u202f", " ").replace("\u2009", " ")


def test_credit_page_shows_amount_deadline_and_the_emails_window(delay_web: Web) -> None:
    text = page_text(delay_web, "credit")
    assert "Store credit for you: $50.00" in text  # 10% of the $500.00 order
    # the offer is valid 3 days: Mar 5, 15:00 UTC is 10:00 in New York
    assert "This choice is open until Mar 5, 2026, 10:00 AM EST." in text
    assert "New expected ship window: Mar 20 – 25, 2026" in text
    email = html.unescape(delay_web.outbox("apology_email").content["html"])
    assert "Mar 20 – 25, 2026" in email.replace("\u2009", " ")


def test_other_choices_show_no_credit_amount(delay_web: Web) -> None:
    text = page_text(delay_web, "expedite")
    assert "Store credit for you" not in text
    assert "open until" in text


def test_korean_page_uses_korean_dates_and_time(delay_web: Web) -> None:
    text = page_text(delay_web, "credit", lang="ko")
    assert "2026년 3월 20일~25일" in text
    assert "오전 10:00" in text
    assert "50.00" in text


def choose(web: Web, action: str) -> str:
    client = web.client()
    path = web.links("apology_email")[action]
    page = client.get(path)
    answer = client.post(path, data={"csrf_token": token_of(page.text)})
    assert answer.status_code == 200, answer.text
    return html.unescape(answer.text).replace("\u202f", " ")


def test_confirmation_page_gives_the_credit_code_and_amount(delay_web: Web) -> None:
    text = choose(delay_web, "credit")
    assert re.search(r"Your store credit code is CREDIT-\S+, worth \$50\.00, valid until", text)


def test_confirmation_page_says_express_shipping(delay_web: Web) -> None:
    assert "express shipping, free of charge" in choose(delay_web, "expedite")


def test_confirmation_page_says_the_refund(delay_web: Web) -> None:
    assert "a full refund of $500.00" in choose(delay_web, "cancel")

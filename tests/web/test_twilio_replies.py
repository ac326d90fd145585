"""Issue 15 §3: SMS replies are read after NFKC ("２" is 2), and a late reply (offer
closed, choice already made) or one we cannot read gets a short answer in the customer's
language (en, ko, ja) saying so: never silence."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from journeykit.foundation.models import Customer, CustomerAction
from tests.web.conftest import Web
from tests.web.test_twilio import inbound, sms_consent


def _locale(web: Web, locale: str) -> None:
    with web.session() as session:
        customer = session.exec(select(Customer)).one()
        customer.locale = locale
        session.add(customer)
        session.commit()


def test_full_width_digit_is_the_choice(delay_web: Web) -> None:
    response = inbound(delay_web, "２")
    assert "<Message>" not in response.text  # acted on: the confirmation says the rest
    with delay_web.session() as session:
        assert session.exec(select(CustomerAction)).one().name == "credit"


def test_reply_after_the_choice_was_made_is_answered(delay_web: Web) -> None:
    inbound(delay_web, "1", sid="SM1")
    answer = inbound(delay_web, "2", sid="SM2")
    assert "already recorded" in answer.text and "2" in answer.text
    with delay_web.session() as session:
        assert [a.name for a in session.exec(select(CustomerAction)).all()] == ["expedite"]


def test_reply_after_the_offer_closed_is_answered(delay_web: Web) -> None:
    delay_web.clock.advance(timedelta(days=3, hours=1))
    delay_web.sweep()
    assert delay_web.enrollment("delay_apology").node_id == "offer_expired"
    answer = inbound(delay_web, "3")
    assert "offer has closed" in answer.text
    with delay_web.session() as session:
        assert session.exec(select(CustomerAction)).all() == []


def test_unknown_reply_lists_the_documented_numbers(delay_web: Web) -> None:
    answer = inbound(delay_web, "maybe later")
    assert "could not read" in answer.text and "1, 2, 3" in answer.text
    assert "could not read" in inbound(delay_web, "7", sid="SM2").text


def test_answers_are_in_the_customers_language(delay_web: Web) -> None:
    _locale(delay_web, "ko")
    assert "답장" in inbound(delay_web, "음", sid="SM1").text
    _locale(delay_web, "ja")
    assert "返信" in inbound(delay_web, "はい?", sid="SM2").text
    inbound(delay_web, "１", sid="SM3")
    assert "選択" in inbound(delay_web, "２", sid="SM4").text


def test_full_width_keyword_is_the_keyword(delay_web: Web) -> None:
    before = sms_consent(delay_web)
    inbound(delay_web, "ＳＴＯＰ", sid="SM5")
    assert sms_consent(delay_web)[len(before) :] == [(False, "sms:STOP")]


def test_message_from_an_unknown_number_is_answered(delay_web: Web) -> None:
    answer = inbound(delay_web, "hello?", sender="+14155559999")
    assert "<Message>" in answer.text and "HELP" in answer.text

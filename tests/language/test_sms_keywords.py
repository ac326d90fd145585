"""Which SMS wordings ask the customer to reply a carrier keyword."""

from __future__ import annotations

import pytest

from journeykit.language.checks.sms_keywords import reserved_keywords


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Reply CANCEL to cancel", "CANCEL"),
        ("reply cancel to cancel your order", "CANCEL"),
        ("Reply stop.", "STOP"),
        ('Reply "HELP" for help', "HELP"),
        ("Text START to resubscribe", "START"),
        ("Reply Y or CANCEL", "CANCEL"),
        ("Reply STOP to cancel", "STOP"),
        ("주문 취소는 CANCEL로 회신해 주세요", "CANCEL"),
        ("キャンセルは「CANCEL」と返信", "CANCEL"),
    ],
)
def test_asking_for_a_keyword_is_found(text: str, word: str):
    assert [use.word for use in reserved_keywords(text)] == [word]


@pytest.mark.parametrize(
    "text",
    [
        "Reply STOP to opt out.",
        "Msg&data rates may apply. Reply STOP to opt-out",
        "Text STOP to stop receiving messages",
        "Reply STOP at any time to unsubscribe",
        "Reply 1 to cancel, 2 to keep it",
        "We will send end-of-season deals",
        "we will text info about it",
        "{# reply CANCEL #} Reply 1 to keep",
        "수신거부: STOP 회신",
        "配信停止はSTOPと返信",
    ],
)
def test_allowed_wordings(text: str):
    assert reserved_keywords(text) == []


def test_position_is_line_and_column():
    (use,) = reserved_keywords("Hi!\nOK, reply END now")
    assert (use.line, use.col) == (2, 11)

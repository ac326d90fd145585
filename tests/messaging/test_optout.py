from __future__ import annotations

import pytest

from journeykit.language.checks.sms_keywords import OPT_OUT as SPEC_OPT_OUT
from journeykit.messaging.optout import OPT_OUT, classify_keyword


@pytest.mark.parametrize(
    "body", [*sorted(OPT_OUT), "stop", " Stop ", "cancel.", "OptOut", "unsubscribe!"]
)
def test_opt_out_keywords_any_case(body: str) -> None:
    assert classify_keyword(body) == "opt_out"


@pytest.mark.parametrize("body", ["START", "unstop", "yes"])
def test_opt_in(body: str) -> None:
    assert classify_keyword(body) == "opt_in"


@pytest.mark.parametrize("body", ["1", "2", "stop it", "please cancel my order", "", "HELPME"])
def test_other_replies_are_not_keywords(body: str) -> None:
    assert classify_keyword(body) is None


def test_help() -> None:
    assert classify_keyword("help") == "help"


def test_validation_and_inbound_agree() -> None:
    assert set(SPEC_OPT_OUT) == OPT_OUT

"""The sandbox's form parser answers exactly what ``urllib.parse.parse_qsl`` answers."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.sandbox.validation import parse_form

PIECES = st.sampled_from(["&", "=", "+", "%", "%2", "%20", "%3A", "%C3%A9", "%ZZ", "a", "é", " "])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=4)), max_size=12))
def test_any_body_parses_as_parse_qsl_does(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert parse_form(text.encode("utf-8")) == parse_qsl(text, keep_blank_values=True)


def test_an_encoded_sms_round_trips() -> None:
    form = [("To", "+15555550123"), ("Body", "Back: https://jk.example/s?a=1&b=2 é"), ("X", "")]
    assert parse_form(urlencode(form).encode()) == form

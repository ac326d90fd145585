"""SMS segment counting: GSM-7 vs UCS-2, extension characters, surrogate pairs, part limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeykit.templating.sms_segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    gsm_friendly,
    non_gsm_characters,
    segments,
)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("[]{}^~|\\\f€", "GSM-7", 20, 1),
        ("é" * 160, "GSM-7", 160, 1),  # é is in the basic set
        ("가" * 70, "UCS-2", 70, 1),
        ("가" * 71, "UCS-2", 71, 2),
        ("가" * 134, "UCS-2", 134, 2),
        ("가" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
        ("a" * 159 + "ç", "UCS-2", 160, 3),  # ç (lower case) is not GSM-7
    ],
)
def test_counts(text: str, encoding: str, units: int, parts: int) -> None:
    result = segments(text)
    assert (result.encoding, result.units, result.segments) == (encoding, units, parts)
    assert result.characters == len(text)


def test_escape_pair_is_not_split_across_parts() -> None:
    # 152 septets then "€" (2): 154 > 153, so the euro sign moves to the second part
    text = "a" * 152 + "€" + "a" * 152
    assert segments(text).units == 306
    assert segments(text).segments == 3


def test_surrogate_pair_is_not_split_across_parts() -> None:
    text = "가" * 66 + "😀" + "가" * 66  # 134 units, but the emoji cannot straddle parts
    assert segments(text).units == 134
    assert segments(text).segments == 3


def test_per_segment_capacity() -> None:
    assert segments("a").per_segment == 160
    assert segments("a" * 200).per_segment == 153
    assert segments("😀").per_segment == 70


def test_gsm_friendly_replaces_typography_only_when_it_helps() -> None:
    assert gsm_friendly("Mar 3\u2009–\u20097, 9:00\u202fPM “now” it’s") == (
        'Mar 3 - 7, 9:00 PM "now" it\'s'
    )
    korean = "3월 3일 – 7일"
    assert gsm_friendly(korean) == korean


def test_non_gsm_characters_lists_each_once() -> None:
    assert non_gsm_characters("ça ç 😀 ok") == ["ç", "😀"]


@given(st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENSION), max_size=700))
def test_gsm_text_bounds(text: str) -> None:
    result = segments(text)
    assert result.encoding == "GSM-7"
    assert result.units == len(text) + sum(char in GSM7_EXTENSION for char in text)
    if result.units <= 160:
        assert result.segments == 1
    else:
        assert result.units / 153 <= result.segments <= result.units / 152 + 1


@given(st.text(min_size=1, max_size=300))
def test_ucs2_units_are_utf16_code_units(text: str) -> None:
    result = segments(text)
    if result.encoding == "UCS-2":
        assert result.units == len(text.encode("utf-16-le")) // 2
        assert result.segments >= -(-result.units // 67) or result.units <= 70

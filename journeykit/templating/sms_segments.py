"""How many SMS segments a text takes (what the carrier bills).

GSM-7 (3GPP TS 23.038) when every character is in the basic set or the extension table
(extension characters take two septets: escape + character); otherwise UCS-2, counted in
UTF-16 code units (an emoji outside the BMP is a surrogate pair: two units). A single message
holds 160 septets / 70 units; a concatenated message loses room to its header: 153 / 67 per
part. A part never splits an escape pair or a surrogate pair, so parts are packed greedily.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # two UTF-16 code units each

LIMITS: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsSegments:
    encoding: Encoding
    characters: int  # Unicode code points
    units: int  # GSM-7 septets or UTF-16 code units
    segments: int  # parts the carrier sends (1 for an empty text: a message is still sent)

    @property
    def per_segment(self) -> int:
        single, multi = LIMITS[self.encoding]
        return single if self.segments == 1 else multi


def is_gsm7(text: str) -> bool:
    return _GSM7.issuperset(text)


def _widths(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if char in GSM7_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _pack(widths: list[int], capacity: int) -> int:
    parts, used = 1, 0
    for width in widths:
        if used + width > capacity:
            parts, used = parts + 1, 0
        used += width
    return parts


def segments(text: str) -> SmsSegments:
    """The encoding, character count, encoded units and segment count of ``text``."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    if encoding == "GSM-7":
        wide = sum(text.count(char) for char in GSM7_EXTENSION)
    else:
        wide = len(_ASTRAL.findall(text))
    units = len(text) + wide  # every character one unit, the wide ones two
    single, multi = LIMITS[encoding]
    count = 1 if units <= single else _pack(_widths(text, encoding), multi)
    return SmsSegments(encoding=encoding, characters=len(text), units=units, segments=count)


# Typographic characters that babel and editors produce, with GSM-7 stand-ins (what
# carriers' "smart encoding" does): one of these alone would turn a text into UCS-2 and
# more than double its segments.
GSM7_LOOKALIKES = str.maketrans(
    {
        "\u00a0": " ",  # no-break space
        "\u2009": " ",  # thin space (babel date ranges)
        "\u202f": " ",  # narrow no-break space (babel times: "9:00 PM")
        "\u2002": " ",
        "\u2003": " ",
        "\u2007": " ",
        "\u200b": "",  # zero-width space
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2212": "-",  # minus sign
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2026": "...",
        "\u2022": "-",
    }
)


def gsm_friendly(text: str) -> str:
    """``text`` with typographic look-alikes replaced when that makes it all GSM-7; unchanged
    when it needs UCS-2 anyway (e.g. Korean or an emoji)."""
    if is_gsm7(text):
        return text
    replaced = text.translate(GSM7_LOOKALIKES)
    return replaced if is_gsm7(replaced) else text


def non_gsm_characters(text: str) -> list[str]:
    """The characters that force UCS-2 (to tell an author why a text costs more)."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION:
            seen.setdefault(char)
    return list(seen)

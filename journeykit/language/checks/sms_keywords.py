"""SMS texts must not ask customers to reply a carrier keyword: carriers act on STOP, CANCEL,
HELP… themselves, so "Reply CANCEL to cancel your order" gets the customer blocked from all our
texts (and the journey never hears the reply). "Reply STOP to opt out" is the one allowed use."""

from __future__ import annotations

import re
from dataclasses import dataclass

OPT_OUT = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
OTHER = ("START", "UNSTOP", "HELP", "INFO")
RESERVED = OPT_OUT + OTHER

_WORDS = "|".join(RESERVED)
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
_ASK = re.compile(
    r"\b(?:reply|replying|respond|answer|text|txt|send|type)\b"
    r"(?:\s+(?:back|us|with|the\s+word|the\s+keyword|only))*"
    r"\s*[:\-]?\s*(?:[\"'“‘«]?\w+[\"'”’»]?\s*(?:,|or|/)\s*)?"
    r"[\"'“‘«]?(?P<word>" + _WORDS + r")\b(?!-)[\"'”’»]?"
    r"(?=\s*(?:$|[.,;:!?)\]]|\{|(?:to|for|and|or|if|now|anytime|at|any)\b))",
    re.IGNORECASE,
)
_OPT_OUT_PURPOSE = re.compile(
    r"\s*[\"'”’»]?\s*(?:(?:at\s+)?any\s*time\s+)?to\s+(?:opt[\s-]?out|unsubscribe"
    r"|stop(?:\s+(?:receiving|getting))?(?:\s+(?:these|our|all))?(?:\s+(?:texts?|messages?|msgs?|sms|alerts?))?\b"
    r"|end(?:\s+(?:these|our|all))?\s+(?:texts?|messages?|msgs?|alerts?))",
    re.IGNORECASE,
)


# Korean / Japanese: the keyword comes before the verb ("CANCEL로 회신", "CANCELと返信").
_ASK_CJK = re.compile(
    r"(?<![A-Za-z0-9])(?P<word>" + _WORDS + r")(?![A-Za-z0-9])[\"'”’»」』]?\s*"
    r"(?:로|으로|라고|를|을|と|を)?\s*(?:회신|답장|답변|문자|返信|送信)",
    re.IGNORECASE,
)
_OPT_OUT_CJK = re.compile(r"(수신\s*거부|수신\s*중단|配信停止|受信拒否|配信解除|オプトアウト)")


@dataclass(frozen=True)
class KeywordUse:
    word: str  # as the customer would type it, upper case
    line: int  # 1-based
    col: int  # 1-based, where the keyword starts


def reserved_keywords(source: str) -> list[KeywordUse]:
    """Places where the text asks the reader to reply a carrier keyword (opt-out excepted)."""
    text = _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), source)
    found = []
    matches = sorted([*_ASK.finditer(text), *_ASK_CJK.finditer(text)], key=lambda m: m.start())
    seen: set[int] = set()
    for match in matches:
        word = match.group("word").upper()
        start = match.start("word")
        if start in seen or (word in OPT_OUT and _opt_out(text, match)):
            continue
        seen.add(start)
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        found.append(KeywordUse(word, line, col))
    return found


def _opt_out(text: str, match: re.Match[str]) -> bool:
    """The instruction is the opt-out itself ("Reply STOP to opt out", "수신거부 STOP 회신")."""
    if match.re is _ASK:
        return _OPT_OUT_PURPOSE.match(text, match.end("word")) is not None
    return _OPT_OUT_CJK.search(text, max(0, match.start() - 20), match.start()) is not None


def keyword_message(word: str) -> tuple[str, str]:
    """(message, hint) for one keyword use."""
    if word in OPT_OUT:
        effect = "a customer who replies it gets blocked by the carrier from all our texts"
    else:
        effect = "the carrier answers it itself, and replying keywords can get the customer blocked"
    message = (
        f"the SMS asks the customer to reply '{word}', a carrier keyword: {effect}, "
        "and the journey never sees the reply"
    )
    return message, "use numbered replies, e.g. 'Reply 1 to …' ('Reply STOP to opt out' is fine)"

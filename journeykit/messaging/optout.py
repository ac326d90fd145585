"""SMS keywords and the opt-out ledger. Carriers treat these whole-message keywords (any case)
as opt-out / opt-in / help; Twilio error 21610 means the carrier already opted the number out.
Every change is a row in the consent ledger, so the latest row for (customer, channel) wins."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from sqlmodel import Session

from journeykit.foundation.models import Consent

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
HELP = frozenset({"HELP", "INFO"})

Keyword = Literal["opt_out", "opt_in", "help"]


def normalise_reply(body: str) -> str:
    """An inbound SMS as a word: NFKC (Japanese and Korean keyboards send full-width "２" or
    "ＳＴＯＰ"), trimmed of spaces and final punctuation, upper case."""
    return unicodedata.normalize("NFKC", body).strip().strip(".!?。、").strip().upper()


def classify_keyword(body: str) -> Keyword | None:
    """The keyword a whole inbound message is, or None (a reply like "2" or "stop it" is not)."""
    word = normalise_reply(body)
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None


def record_sms_consent(
    session: Session,
    *,
    customer_id: int,
    granted: bool,
    now: datetime,
    source: str,
    detail: dict[str, str] | None = None,
) -> Consent:
    """Append a consent row for SMS (both purposes: an opt-out stops every SMS)."""
    row = Consent(
        customer_id=customer_id,
        channel="sms",
        purpose="marketing",
        granted=granted,
        source=source,
        recorded_at=now,
        detail=detail or {},
    )
    session.add(row)
    return row

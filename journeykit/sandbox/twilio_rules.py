"""Twilio's message rules that the spec cannot express: conditional fields, test numbers,
body length, and how many segments a body takes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
MAX_BODY = 1600

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
GSM7_ALL = frozenset(GSM7_BASIC | GSM7_EXTENDED)


@dataclass(frozen=True)
class TwilioError:
    """A Twilio REST error: numeric code, message and HTTP status."""

    code: int
    message: str
    status: int = 400

    def body(self) -> dict[str, Any]:
        """The JSON body Twilio answers with."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


# Twilio's documented test numbers (used as To with test credentials).
MAGIC_TO: dict[str, TwilioError] = {
    "+15005550001": TwilioError(21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": TwilioError(
        21612,
        "The 'To' phone number: +15005550002, is not currently reachable using the "
        "'From' phone number via SMS.",
    ),
    "+15005550004": TwilioError(21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": TwilioError(21614, "'To' number +15005550009 is not a valid mobile number"),
}


def check_message(params: dict[str, str], media: list[str]) -> TwilioError | None:
    """The first rule a create-message request breaks, or None when it may be sent."""
    to = params.get("To", "")
    if not to:
        return TwilioError(21604, "A 'To' phone number is required.")
    if not params.get("From") and not params.get("MessagingServiceSid"):
        return TwilioError(21603, "A 'From' phone number or a 'MessagingServiceSid' is required.")
    if not params.get("Body") and not media and not params.get("ContentSid"):
        return TwilioError(21602, "Message body is required.")
    if not E164.match(to.removeprefix("whatsapp:")):
        return TwilioError(21211, f"The 'To' number {to} is not a valid phone number.")
    from_ = params.get("From", "")
    if from_ and not E164.match(from_.removeprefix("whatsapp:")) and not from_.isalnum():
        return TwilioError(21212, f"The 'From' number {from_} is not a valid phone number.")
    if len(params.get("Body", "")) > MAX_BODY:
        return TwilioError(21617, "The concatenated message body exceeds the 1600 character limit.")
    validity = params.get("ValidityPeriod")
    if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
        return TwilioError(21623, "ValidityPeriod must be between 1 and 36000 seconds.")
    return MAGIC_TO.get(to)


def is_gsm7(text: str) -> bool:
    """Whether the text fits the GSM-7 alphabet (with its extension table)."""
    return GSM7_ALL.issuperset(text)  # a set test per distinct character, in C


def count_segments(text: str) -> int:
    """How many SMS segments Twilio bills for this body (0 for an empty body)."""
    if not text:
        return 0
    if is_gsm7(text):
        units = len(text) + sum(text.count(c) for c in GSM7_EXTENDED.intersection(text))
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


# Sandbox-only: accepted, then reported as failed in the status callbacks (carrier filtered).
UNDELIVERED_TO: dict[str, int] = {"+15005550030": 30007}

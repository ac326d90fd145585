"""What the dispatcher hands a provider sender, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Outcome = Literal["sent", "retry", "permanent", "ambiguous"]


@dataclass(frozen=True)
class EmailMessage:
    key: str  # the outbox key; travels as custom_args.journeykit_key on the personalization
    to: str
    subject: str
    html: str
    text: str
    to_name: str = ""
    preheader: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # e.g. List-Unsubscribe
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class SmsMessage:
    key: str
    to: str  # E.164
    body: str
    validity_period_s: int | None = None
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    """``sent``: accepted (provider_id set). ``retry``: surely not sent (429, 5xx, refused).
    ``permanent``: refused for good (opted out, invalid number, 400). ``ambiguous``: the
    request may have gone out (timeout after sending): reconcile before any resend."""

    outcome: Outcome
    provider_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> SendResult: ...


class SmsSender(Protocol):
    def send(self, message: SmsMessage) -> SendResult: ...

    def find_sent(self, to: str, since: datetime, body: str) -> str | None:
        """The SID of a message with this body sent to ``to`` since ``since``, if any."""
        ...

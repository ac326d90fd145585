"""What the dispatcher hands a provider sender, and what it gets back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from journeykit.timing.clock import Clock, SystemClock

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


class ProviderLookupError(RuntimeError):
    """The provider could not be asked whether a message went out (reconcile again later;
    never read it as "not sent")."""


class EmailSender(Protocol):
    def send(self, message: EmailMessage) -> SendResult: ...

    def send_many(
        self,
        messages: Sequence[EmailMessage],
        *,
        before_request: Callable[[], None] | None = None,
    ) -> list[SendResult]:
        """Several messages, batched into as few requests as their content allows;
        ``before_request`` runs before each request (the rate limiter)."""
        ...


class SmsSender(Protocol):
    def send(self, message: SmsMessage) -> SendResult: ...

    def find_sent(self, to: str, since: datetime, body: str) -> str | None:
        """The SID of a message with this body sent to ``to`` since ``since``, if any."""
        ...


@runtime_checkable
class SmsBatchSender(SmsSender, Protocol):
    """An SMS sender that can have many requests in flight itself (one per SMS: Twilio has
    no batch send), cheaper than a thread per request."""

    def send_many(
        self,
        messages: Sequence[SmsMessage],
        *,
        before_request: Callable[[], None] | None = None,
        concurrency: int | None = None,
    ) -> list[SendResult]:
        """One result per message, in order; ``before_request`` runs before each request
        (the rate limiter's hook); never raises for one message."""
        ...


@dataclass
class Senders:
    """What the dispatcher sends with. ``before_send(channel)`` runs before every provider
    request (one per SMS, one per SendGrid request however many personalizations it has):
    the rate limiter's hook (:mod:`journeykit.delivery.ratelimit`); None: no limit.
    ``wall_clock`` times attempts for reconcile (the provider's clock is the real one, even
    when the engine runs on a virtual clock)."""

    email: EmailSender
    sms: SmsSender
    concurrency: int = 8
    before_send: Callable[[str], None] | None = None
    status_callback: str | None = None  # Twilio StatusCallback for every SMS
    email_batch_size: int = 1000
    wall_clock: Clock = field(default_factory=SystemClock)

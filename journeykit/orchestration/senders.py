"""The provider senders a runtime uses (the real SDKs, pointed at settings' URLs), with the
cross-worker rate limiter as their ``before_send`` hook when a Prefect API is configured."""

from __future__ import annotations

from journeykit.channels.outbox import Senders
from journeykit.engine.runtime import Runtime
from journeykit.settings import Settings

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def status_callback_url(settings: Settings) -> str:
    """Where Twilio posts delivery status (the web app's route)."""
    return settings.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH


def build_senders(settings: Settings) -> Senders:
    from journeykit.channels.ratelimit import limiter_for
    from journeykit.channels.sendgrid import SendGridEmailSender
    from journeykit.channels.twilio import TwilioSmsSender

    return Senders(
        email=SendGridEmailSender.from_settings(settings),
        sms=TwilioSmsSender.from_settings(settings),
        concurrency=settings.send_concurrency,
        before_send=limiter_for(settings),
        status_callback=status_callback_url(settings),
        email_batch_size=settings.email_batch_size,
    )


def senders_for(runtime: Runtime) -> Senders:
    cached = runtime.cache.get("senders")
    if cached is None:
        cached = build_senders(runtime.settings)
        runtime.cache["senders"] = cached
    return cached

"""The provider senders a runtime uses (the real SDKs, pointed at settings' URLs), with the
cross-worker rate limiter as their ``before_send`` hook when a Prefect API is configured."""

from __future__ import annotations

from journeykit.delivery.dispatch import Senders
from journeykit.delivery.providers.sendgrid import SendGridEmailSender
from journeykit.delivery.providers.twilio import TwilioSmsSender
from journeykit.delivery.ratelimit import (
    ensure_rate_limits,
    limiter_for,
    prefect_api_configured,
)
from journeykit.engine.runtime import Runtime
from journeykit.foundation.settings import Settings

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


def status_callback_url(settings: Settings) -> str:
    """Where Twilio posts delivery status (the web app's route)."""
    return settings.web.public_base_url.rstrip("/") + STATUS_CALLBACK_PATH


def build_senders(settings: Settings) -> Senders:
    """Senders from settings. With a Prefect API configured, the rate limits are created or
    updated first (idempotent), then every request takes a slot."""

    if prefect_api_configured():
        ensure_rate_limits(settings)
    return Senders(
        email=SendGridEmailSender.from_settings(settings),
        sms=TwilioSmsSender.from_settings(settings),
        concurrency=settings.sending.concurrency,
        before_send=limiter_for(settings),
        status_callback=status_callback_url(settings),
        email_batch_size=settings.sending.email_batch_size,
    )


def senders_for(runtime: Runtime) -> Senders:
    cached = runtime.cache.get("senders")
    if cached is None:
        cached = build_senders(runtime.settings)
        runtime.cache["senders"] = cached
    return cached

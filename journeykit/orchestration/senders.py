"""The provider senders a runtime uses (the real SDKs, pointed at settings' URLs)."""

from __future__ import annotations

from journeykit.channels.outbox import Senders
from journeykit.engine.runtime import Runtime


def senders_for(runtime: Runtime) -> Senders:
    cached = runtime.cache.get("senders")
    if cached is None:
        from journeykit.channels.sendgrid import SendGridEmailSender
        from journeykit.channels.twilio import TwilioSmsSender

        cached = Senders(
            email=SendGridEmailSender.from_settings(runtime.settings),
            sms=TwilioSmsSender.from_settings(runtime.settings),
        )
        runtime.cache["senders"] = cached
    return cached

"""The sandbox's own signed callbacks (Twilio status callbacks, SendGrid ECDSA event
batches), sent by the real SDK senders, are accepted by the live app and update the outbox."""

from __future__ import annotations

import time

import pendulum
from journeykit_rigs import fixtures as testing
from pydantic import SecretStr
from sqlmodel import select

from journeykit.delivery.providers.base import EmailMessage, SmsMessage
from journeykit.delivery.providers.sendgrid import SendGridEmailSender
from journeykit.delivery.providers.twilio import TwilioSmsSender
from journeykit.foundation.models import MessageEvent, OutboxMessage
from journeykit.sandbox.server import SandboxServer
from tests.web.conftest import LiveServer, delayed, order_placed, product

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox


def wait_for_status(live: LiveServer, node_id: str, status: str) -> OutboxMessage:
    deadline = time.monotonic() + 10
    while True:
        row = live.web.outbox(node_id)
        if row.status == status or time.monotonic() > deadline:
            return row
        time.sleep(0.05)


def test_sandbox_callbacks_are_verified_and_applied(
    live: LiveServer, sandbox: SandboxServer
) -> None:
    web = live.web
    web.emit(product(), "p")
    web.emit(order_placed(), "o")
    web.emit(delayed(), "d")
    web.clock.set(pendulum.now("UTC"))  # the sandbox signs with the real time
    web.settings.providers.twilio.auth_token = SecretStr(sandbox.auth_token)
    web.settings.providers.sendgrid.webhook_public_key = sandbox.sendgrid_public_key
    sandbox.set_sendgrid_event_url(f"{live.url}/webhooks/sendgrid/events")

    sms_row = web.outbox("apology_sms")
    sms = TwilioSmsSender(
        sandbox.account_sid, sandbox.auth_token, sandbox.url, from_number="+15005550006"
    )
    callback = f"{live.url}/webhooks/twilio/status?key={sms_row.key}"
    sent = sms.send(
        SmsMessage(key=sms_row.key, to=sms_row.to_address, body="hi", status_callback=callback)
    )
    assert sent.outcome == "sent"
    assert wait_for_status(live, "apology_sms", "delivered").provider_id == sent.provider_id

    email_row = web.outbox("apology_email")
    mail = SendGridEmailSender("SG.sandbox-key", sandbox.url, from_email="shop@example.com")
    result = mail.send(
        EmailMessage(
            key=email_row.key, to=email_row.to_address, subject="s", html="<p>h</p>", text="h"
        )
    )
    assert result.outcome == "sent"
    assert wait_for_status(live, "apology_email", "delivered").status == "delivered"
    with web.session() as session:
        kinds = {e.kind for e in session.exec(select(MessageEvent)).all()}
    assert {"sent", "delivered", "processed"} <= kinds
    log = sandbox.app.state.sandbox.callbacks.log.entries
    deadline = time.monotonic() + 10
    while len(log) < 4 and time.monotonic() < deadline:  # 2 status callbacks, 2 batches
        time.sleep(0.05)
    assert [outcome for _url, outcome in log] == ["200"] * 4

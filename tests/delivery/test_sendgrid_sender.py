"""SendGridEmailSender against a real running sandbox, through the official sendgrid SDK."""

from __future__ import annotations

import json
import time

from journeykit_rigs import fixtures as testing
from journeykit_rigs.fixtures import CallbackReceiver
from sendgrid.helpers.eventwebhook import EventWebhook

from journeykit.delivery.providers.base import EmailMessage
from journeykit.delivery.providers.sendgrid import SendGridEmailSender
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer, free_port

# One running sandbox per module (see journeykit_rigs.fixtures).
sandbox_server = testing.sandbox_server
sandbox = testing.sandbox
callback_receiver = testing.callback_receiver


def make_sender(
    box: SandboxServer, *, timeout_s: float = 15.0, key: str | None = None
) -> SendGridEmailSender:
    return SendGridEmailSender(
        key or box.sendgrid_api_key,
        box.url,
        from_email="hello@journeykit.example",
        from_name="Journeykit Store",
        timeout_s=timeout_s,
    )


def email(key: str = "k-1", to: str = "ada@example.com", subject: str = "Welcome") -> EmailMessage:
    return EmailMessage(
        key=key,
        to=to,
        to_name="Ada",
        subject=subject,
        html="<p>Hello <b>Ada</b></p>",
        text="Hello Ada",
        headers={"List-Unsubscribe": "<https://example.com/u/1>"},
        categories=("welcome", "journeykit"),
    )


def test_send_success_is_stored(sandbox: SandboxServer) -> None:
    result = make_sender(sandbox).send(email())
    assert result.outcome == "sent"
    assert result.provider_id is not None and len(result.provider_id) == 22
    [m] = sandbox.store.messages(provider="sendgrid")
    assert m.id.startswith(result.provider_id) and m.request_id == result.provider_id
    assert (m.to, m.to_name, m.from_, m.subject) == (
        "ada@example.com",
        "Ada",
        "hello@journeykit.example",
        "Welcome",
    )
    assert (m.html, m.text) == ("<p>Hello <b>Ada</b></p>", "Hello Ada")
    assert m.custom_args == {"journeykit_key": "k-1"}
    assert m.headers == {"List-Unsubscribe": "<https://example.com/u/1>"}
    assert m.categories == ["welcome", "journeykit"]
    raw = json.loads(m.raw)
    assert raw["personalizations"][0]["custom_args"] == {"journeykit_key": "k-1"}
    assert [c["type"] for c in raw["content"]] == ["text/plain", "text/html"]


def test_wrong_key_is_permanent(sandbox: SandboxServer) -> None:
    result = make_sender(sandbox, key="SG.wrong").send(email())
    assert (result.outcome, result.error_code) == ("permanent", "401")
    assert "authorization grant is invalid" in (result.error or "")


def test_invalid_address_is_permanent_400(sandbox: SandboxServer) -> None:
    result = make_sender(sandbox).send(email(to="not-an-address"))
    assert (result.outcome, result.error_code) == ("permanent", "400")
    assert "personalizations.0.to.0.email" in (result.error or "")


def test_429_is_retry_with_reset(sandbox: SandboxServer) -> None:
    sandbox.faults.update(retry_after_s=5)
    sandbox.faults.script("429")
    result = make_sender(sandbox).send(email())
    assert result.outcome == "retry" and result.error_code == "429"
    assert result.retry_after_s is not None and 3.0 <= result.retry_after_s <= 5.0
    assert sandbox.store.count() == 0


def test_500_is_retry(sandbox: SandboxServer) -> None:
    sandbox.faults.script("500")
    assert make_sender(sandbox).send(email()).outcome == "retry"


def test_connection_refused_is_retry() -> None:
    sender = SendGridEmailSender(
        "SG.x", f"http://127.0.0.1:{free_port()}", from_email="a@b.example", timeout_s=1
    )
    assert sender.send(email()).outcome == "retry"


def test_timeout_is_ambiguous_but_stored(sandbox: SandboxServer) -> None:
    sandbox.faults.update(timeout_delay_s=3.0)
    sandbox.faults.script("timeout")
    result = make_sender(sandbox, timeout_s=1.0).send(email(key="k-timeout"))
    assert result.outcome == "ambiguous"
    [m] = sandbox.store.messages(provider="sendgrid")
    assert m.custom_args["journeykit_key"] == "k-timeout"


def test_send_many_shares_requests_and_each_customer_gets_their_own_content(
    sandbox: SandboxServer,
) -> None:
    same = [email(key=f"k{i}", to=f"c{i}@example.com") for i in range(5)]
    other = [email(key=f"o{i}", to=f"o{i}@example.com", subject="Other") for i in range(2)]
    messages = [same[0], other[0], *same[1:], other[1]]
    results = make_sender(sandbox).send_many(messages)
    assert [r.outcome for r in results] == ["sent"] * 7
    stored = sandbox.store.messages(provider="sendgrid")
    assert len(stored) == 7
    assert len({m.request_id for m in stored}) == 1  # the subjects went as substitutions
    by_key = {m.custom_args["journeykit_key"]: m for m in stored}
    for message, result in zip(messages, results, strict=True):
        assert by_key[message.key].request_id == result.provider_id
        assert by_key[message.key].to == message.to
        assert by_key[message.key].subject == message.subject


def test_event_webhook_is_signed(
    sandbox: SandboxServer, callback_receiver: CallbackReceiver
) -> None:
    sandbox.set_sendgrid_event_url(callback_receiver.url + "/sendgrid/events")
    result = make_sender(sandbox).send(email(key="k-events"))
    got = callback_receiver.wait_for(2)
    verifier = EventWebhook(sandbox.sendgrid_public_key)
    kinds = []
    for r in got:
        signature = r.headers["X-Twilio-Email-Event-Webhook-Signature"]
        timestamp = r.headers["X-Twilio-Email-Event-Webhook-Timestamp"]
        assert verifier.verify_signature(r.body.decode(), signature, timestamp)
        assert not verifier.verify_signature(r.body.decode() + " ", signature, timestamp)
        assert abs(int(timestamp) - time.time()) < 60
        for event in json.loads(r.body):
            kinds.append(event["event"])
            assert event["journeykit_key"] == "k-events"
            assert event["sg_message_id"].startswith(result.provider_id or "?")
            assert event["email"] == "ada@example.com" and event["sg_event_id"]
    assert kinds == ["processed", "delivered"]


def test_from_settings(sandbox: SandboxServer) -> None:
    sender = SendGridEmailSender.from_settings(
        Settings().with_changes({"providers.sendgrid.base_url": sandbox.url})
    )
    assert sender.send(email()).outcome == "sent"

"""TwilioSmsSender against a real running sandbox, through the official twilio SDK."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from journeykit_rigs import fixtures as testing
from journeykit_rigs.fixtures import CallbackReceiver
from twilio.request_validator import RequestValidator

from journeykit.delivery.providers.base import SendResult, SmsMessage
from journeykit.delivery.providers.twilio import TwilioSmsSender
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer, free_port

# One running sandbox per module (see journeykit_rigs.fixtures).
sandbox_server = testing.sandbox_server
sandbox = testing.sandbox
callback_receiver = testing.callback_receiver

TO = "+15551230001"


def make_sender(
    box: SandboxServer, *, timeout_s: float = 15.0, token: str | None = None
) -> TwilioSmsSender:
    return TwilioSmsSender(
        box.account_sid,
        token or box.auth_token,
        box.url,
        from_number="+15005550006",
        timeout_s=timeout_s,
    )


def sms(body: str = "Your order shipped", to: str = TO, **kw: object) -> SmsMessage:
    return SmsMessage(key="k-1", to=to, body=body, **kw)  # type: ignore[arg-type]


Send = Callable[[TwilioSmsSender, SmsMessage], SendResult]


@pytest.fixture(params=["send", "send_many"])
def send(request: pytest.FixtureRequest) -> Send:
    """Each outcome both ways: ``send`` (the sync SDK path, also what reconcile uses) and
    ``send_many`` (the SDK's async path, what a dispatch round uses)."""
    if request.param == "send":
        return lambda sender, message: sender.send(message)
    return lambda sender, message: sender.send_many([message])[0]


def test_send_success_is_stored(sandbox: SandboxServer, send: Send) -> None:
    result = send(make_sender(sandbox), sms(validity_period_s=3600))
    assert result.outcome == "sent"
    assert result.provider_id is not None and result.provider_id.startswith("SM")
    assert len(result.provider_id) == 34
    [stored] = sandbox.store.messages(provider="twilio", to=TO)
    assert stored.id == result.provider_id
    assert stored.body == "Your order shipped" and stored.num_segments == 1
    assert "ValidityPeriod=3600" in stored.raw


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+15005550001", "21211"),
        ("+15005550004", "21610"),
        ("+15005550009", "21614"),
        ("+15005550002", "21612"),
        ("5551234", "21211"),
    ],
)
def test_magic_and_invalid_numbers_are_permanent(
    sandbox: SandboxServer, to: str, code: str, send: Send
) -> None:
    result = send(make_sender(sandbox), sms(to=to))
    assert (result.outcome, result.error_code) == ("permanent", code)
    assert result.error
    assert sandbox.store.count() == 0


def test_body_over_1600_chars_is_permanent(sandbox: SandboxServer, send: Send) -> None:
    result = send(make_sender(sandbox), sms(body="x" * 1601))
    assert (result.outcome, result.error_code) == ("permanent", "21617")


def test_wrong_credentials(sandbox: SandboxServer, send: Send) -> None:
    result = send(make_sender(sandbox, token="wrong"), sms())
    assert (result.outcome, result.error_code) == ("permanent", "20003")


def test_429_is_retry_with_retry_after(sandbox: SandboxServer, send: Send) -> None:
    sandbox.faults.update(retry_after_s=7)
    sandbox.faults.script("429")
    result = send(make_sender(sandbox), sms())
    assert (result.outcome, result.retry_after_s, result.error_code) == ("retry", 7.0, "20429")
    assert sandbox.store.count() == 0


def test_500_is_retry(sandbox: SandboxServer, send: Send) -> None:
    sandbox.faults.script("500")
    assert send(make_sender(sandbox), sms()).outcome == "retry"
    assert sandbox.store.count() == 0


def test_connection_refused_is_retry(send: Send) -> None:
    sender = TwilioSmsSender(
        "AC00000000000000000000000000000000",
        "t",
        f"http://127.0.0.1:{free_port()}",
        from_number="+15005550006",
        timeout_s=1,
    )
    assert send(sender, sms()).outcome == "retry"


def test_timeout_is_ambiguous_and_find_sent_finds_it(sandbox: SandboxServer, send: Send) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    sandbox.faults.update(timeout_delay_s=3.0)
    sandbox.faults.script("timeout")
    sender = make_sender(sandbox, timeout_s=1.0)
    result = send(sender, sms(body="Reconcile me"))
    assert result.outcome == "ambiguous"
    [stored] = sandbox.store.messages(provider="twilio")
    assert sender.find_sent(TO, since, "Reconcile me") == stored.id
    assert sender.find_sent(TO, since, "Another body") is None
    assert sender.find_sent(TO, datetime.now(UTC) + timedelta(days=2), "Reconcile me") is None


def test_status_callbacks_are_signed(
    sandbox: SandboxServer, callback_receiver: CallbackReceiver, send: Send
) -> None:
    url = callback_receiver.url + "/twilio/status?tenant=1"
    result = send(make_sender(sandbox), sms(status_callback=url))
    got = callback_receiver.wait_for(2)
    validator = RequestValidator(sandbox.auth_token)
    assert [r.form["MessageStatus"] for r in got] == ["sent", "delivered"]
    for r in got:
        assert r.form["MessageSid"] == result.provider_id
        assert r.form["To"] == TO and r.form["AccountSid"] == sandbox.account_sid
        assert validator.validate(url, r.form, r.headers["X-Twilio-Signature"])
        assert not RequestValidator("other").validate(url, r.form, r.headers["X-Twilio-Signature"])


def test_undelivered_callback_carries_error_code(
    sandbox: SandboxServer, callback_receiver: CallbackReceiver, send: Send
) -> None:
    url = callback_receiver.url + "/status"
    send(make_sender(sandbox), sms(to="+15005550030", status_callback=url))
    got = callback_receiver.wait_for(2)
    assert got[-1].form["MessageStatus"] == "undelivered"
    assert got[-1].form["ErrorCode"] == "30007"


def test_from_settings(sandbox: SandboxServer) -> None:
    settings = Settings().with_changes(
        {"providers.twilio.base_url": sandbox.url, "sending.sms_from": "+15005550006"}
    )
    sender = TwilioSmsSender.from_settings(settings)
    assert sender.send(sms()).outcome == "sent"


def test_messaging_service_sid_is_sent_instead_of_from(sandbox: SandboxServer, send: Send) -> None:
    service = "MG" + "0" * 32
    sender = TwilioSmsSender(
        sandbox.account_sid, sandbox.auth_token, sandbox.url, from_number=service, timeout_s=5
    )
    assert send(sender, sms()).outcome == "sent"
    [stored] = sandbox.store.messages(provider="twilio")
    assert f"MessagingServiceSid={service}" in stored.raw and "From=" not in stored.raw


def test_send_many_keeps_order_and_runs_the_hook_before_each_request(
    sandbox: SandboxServer,
) -> None:
    messages = [sms(body=f"Message {i}", to=TO if i % 3 else "+15005550001") for i in range(30)]
    hooks: list[int] = []
    results = make_sender(sandbox).send_many(
        messages, before_request=lambda: hooks.append(1), concurrency=4
    )
    assert len(hooks) == 30
    assert [r.outcome for r in results] == ["sent" if i % 3 else "permanent" for i in range(30)]
    stored = {m.id: m.body for m in sandbox.store.messages(provider="twilio")}
    assert len(stored) == 20
    for i, result in enumerate(results):
        if i % 3:
            assert stored[result.provider_id or ""] == f"Message {i}"
        else:
            assert result.error_code == "21211"


def test_send_many_twice_reuses_the_sender(sandbox: SandboxServer) -> None:
    sender = make_sender(sandbox)
    assert [r.outcome for r in sender.send_many([sms(), sms()])] == ["sent", "sent"]
    assert [r.outcome for r in sender.send_many([sms()])] == ["sent"]
    assert sender.send_many([]) == []
    assert sandbox.store.count() == 3


@pytest.mark.parametrize("from_number", ["+15005550006", "MG" + "a" * 32])
def test_send_many_posts_the_form_the_sdks_create_posts(
    sandbox: SandboxServer, from_number: str
) -> None:
    """A dispatch round writes the Messages form itself (below ``MessageList.create``): the
    same fields and values as the SDK's own ``messages.create`` of ``send``."""
    from urllib.parse import parse_qsl

    sender = make_sender(sandbox)
    sender.from_number = from_number
    message = sms(validity_period_s=600, status_callback="https://jk.example/webhooks/t?x=1")
    assert sender.send(message).outcome == "sent"
    assert sender.send_many([message])[0].outcome == "sent"
    first, second = sandbox.store.messages(provider="twilio", to=TO)
    assert "ValidityPeriod=600" in first.raw and "StatusCallback" in first.raw
    assert sorted(parse_qsl(first.raw)) == sorted(parse_qsl(second.raw))

"""The dispatcher against the running sandbox (real twilio/sendgrid SDKs over HTTP): one
test per rule — retry only what surely did not send, never a permanent error, reconcile an
ambiguous timeout before any resend, quiet hours re-checked at send time."""

from __future__ import annotations

from datetime import timedelta

from journeykit_rigs import fixtures as testing

from journeykit.delivery.dispatch import claim, dispatch, reconcile, send_due
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer, free_port
from tests.delivery.conftest import Outbox, make_senders

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox

NOW = timedelta(0)


def round_(outbox: Outbox, senders: object) -> None:
    ids = claim(outbox.runtime, limit=100).ids
    dispatch(outbox.runtime, senders, ids)  # type: ignore[arg-type]


def test_sent_row_stores_sid_validity_and_status_callback(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    row_id = outbox.row("sms", expires_in=timedelta(hours=4))
    senders = make_senders(sandbox, status_callback="https://jk.example/webhooks/twilio/status")
    report = send_due(outbox.runtime, senders, limit=10)
    assert (report.sent, report.requests) == (1, 1)
    row = outbox.get(row_id)
    [stored] = sandbox.store.messages(provider="twilio")
    assert row.status == "sent" and row.provider_id == stored.id and row.attempts == 1
    assert "ValidityPeriod=14400" in stored.raw
    assert "StatusCallback=https%3A%2F%2Fjk.example%2Fwebhooks%2Ftwilio%2Fstatus" in stored.raw


def test_429_is_retried_after_retry_after_then_sent_once(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    sandbox.faults.update(retry_after_s=30)
    sandbox.faults.script("429")
    row_id = outbox.row("sms")
    senders = make_senders(sandbox)
    report = send_due(outbox.runtime, senders, limit=10)
    row = outbox.get(row_id)
    assert report.retried == 1 and row.status == "queued" and row.error_code == "20429"
    assert row.due_at >= outbox.clock.now() + timedelta(seconds=30)
    assert send_due(outbox.runtime, senders, limit=10).claimed == 0  # not due yet: no resend
    outbox.later(seconds=40)
    assert send_due(outbox.runtime, senders, limit=10).sent == 1
    assert sandbox.store.count(provider="twilio") == 1 and outbox.get(row_id).attempts == 2


def test_sendgrid_429_honours_x_ratelimit_reset(outbox: Outbox, sandbox: SandboxServer) -> None:
    sandbox.faults.update(retry_after_s=45)
    sandbox.faults.script("429")
    row_id = outbox.row("email", to="ana@example.com")
    send_due(outbox.runtime, make_senders(sandbox), limit=10)
    row = outbox.get(row_id)
    assert row.status == "queued" and row.error_code == "429"
    assert row.due_at >= outbox.clock.now() + timedelta(seconds=40)  # reset - now, rounded


def test_500_is_retried_with_backoff(outbox: Outbox, sandbox: SandboxServer) -> None:
    sandbox.faults.script("500", "500")
    row_id = outbox.row("email", to="ana@example.com")
    senders = make_senders(sandbox)
    for _ in range(3):
        send_due(outbox.runtime, senders, limit=10)
        outbox.later(minutes=10)
    row = outbox.get(row_id)
    assert row.status == "sent" and row.attempts == 3 and row.provider_id
    assert sandbox.store.count(provider="sendgrid") == 1


def test_connection_refused_is_retried(outbox: Outbox, sandbox: SandboxServer) -> None:
    row_id = outbox.row("sms")
    dead = SandboxServer(port=free_port())  # never started: nothing listens there
    report = send_due(outbox.runtime, make_senders(dead), limit=10)
    assert report.retried == 1 and outbox.get(row_id).status == "queued"
    outbox.later(minutes=15)
    assert send_due(outbox.runtime, make_senders(sandbox), limit=10).sent == 1


def test_retries_are_bounded(tmp_path: object, sandbox: SandboxServer) -> None:
    outbox = Outbox(tmp_path, {"sending.max_attempts": 2})
    sandbox.faults.script("500", "500", "500")
    row_id = outbox.row("sms")
    senders = make_senders(sandbox)
    for _ in range(3):
        send_due(outbox.runtime, senders, limit=10)
        outbox.later(minutes=30)
    row = outbox.get(row_id)
    assert row.status == "failed" and row.attempts == 2 and sandbox.store.count() == 0


def test_21610_fails_once_and_records_the_sms_opt_out(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    row_id = outbox.row("sms", to="+15005550004")
    report = send_due(outbox.runtime, make_senders(sandbox), limit=10)
    row = outbox.get(row_id)
    assert report.failed == 1 and row.status == "failed" and row.error_code == "21610"
    [consent] = [c for c in outbox.consents(row.customer_id) if c.source != "store"]
    assert consent.channel == "sms" and consent.granted is False
    assert consent.source == "twilio:21610" and consent.detail["outbox_key"] == row.key
    outbox.later(hours=1)
    assert send_due(outbox.runtime, make_senders(sandbox), limit=10).claimed == 0


def test_invalid_and_landline_numbers_and_sendgrid_400_are_never_retried(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    bad = outbox.row("sms", to="+15005550001")
    landline = outbox.row("sms", to="+15005550009")
    email = outbox.row("email", to="not-an-address")
    report = send_due(outbox.runtime, make_senders(sandbox), limit=10)
    assert report.failed == 3 and report.retried == 0
    assert [outbox.get(i).error_code for i in (bad, landline, email)] == ["21211", "21614", "400"]
    assert not any(c.granted is False for c in outbox.consents(outbox.get(bad).customer_id))
    outbox.later(days=1)
    assert send_due(outbox.runtime, make_senders(sandbox), limit=10).claimed == 0


def test_sms_timeout_is_reconciled_by_wall_clock_not_resent(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    """The virtual clock says March; the provider's clock says today. Reconcile must look
    for the message since the attempt's wall-clock time and find it."""
    sandbox.faults.update(timeout_delay_s=3.0)
    sandbox.faults.script("timeout")
    row_id = outbox.row("sms")
    report = send_due(outbox.runtime, make_senders(sandbox, timeout_s=1.0), limit=10)
    row = outbox.get(row_id)
    assert report.ambiguous == 1 and row.status == "sending" and row.provider_id is None
    assert row.decisions[-1]["rule"] == "ambiguous"
    outbox.later(minutes=5)
    report = send_due(outbox.runtime, make_senders(sandbox), limit=10)
    row = outbox.get(row_id)
    [stored] = sandbox.store.messages(provider="twilio")
    assert report.reconciled == 1 and report.claimed == 0
    assert row.status == "sent" and row.provider_id == stored.id
    assert row.decisions[-1] == {**row.decisions[-1], "rule": "reconcile", "found": True}


def test_sending_row_the_provider_never_got_is_resent_after_reconcile(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    row_id = outbox.row("sms")
    claim(outbox.runtime, limit=10)  # claimed, then the worker died before the request
    senders = make_senders(sandbox)
    assert send_due(outbox.runtime, senders, limit=10).claimed == 0  # not stale yet
    outbox.later(minutes=5)
    report = send_due(outbox.runtime, senders, limit=10)
    assert report.reconciled == 1 and report.sent == 1
    assert outbox.get(row_id).status == "sent" and sandbox.store.count() == 1


def test_unreachable_provider_during_reconcile_keeps_the_row_ambiguous(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    sandbox.faults.update(timeout_delay_s=3.0)
    sandbox.faults.script("timeout")
    row_id = outbox.row("sms")
    send_due(outbox.runtime, make_senders(sandbox, timeout_s=1.0), limit=10)
    outbox.later(minutes=5)
    dead = SandboxServer(port=free_port())
    assert reconcile(outbox.runtime, make_senders(dead), stale_after=timedelta(minutes=2)) == 0
    row = outbox.get(row_id)
    assert row.status == "sending" and "not reachable" in str(row.decisions[-1]["found"])
    assert sandbox.store.count() == 1
    outbox.later(minutes=5)
    assert reconcile(outbox.runtime, make_senders(sandbox), stale_after=timedelta(0)) == 1
    assert outbox.get(row_id).status == "sent" and sandbox.store.count() == 1


def test_email_timeout_waits_for_the_event_carrying_its_key(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    from journeykit.foundation.db import session_scope
    from journeykit.foundation.models import MessageEvent

    sandbox.faults.update(timeout_delay_s=3.0)
    sandbox.faults.script("timeout", "timeout")
    found = outbox.row("email", to="ana@example.com")
    lost = outbox.row("email", to="bo@example.com", html="<p>other</p>")
    assert send_due(outbox.runtime, make_senders(sandbox, timeout_s=1.0), limit=10).ambiguous == 2
    senders = make_senders(sandbox)
    [stored_ana] = sandbox.store.messages(to="ana@example.com")
    assert stored_ana.custom_args["journeykit_key"] == outbox.get(found).key
    with session_scope(outbox.engine) as s:  # what the event webhook stores for ana's mail
        s.add(
            MessageEvent(
                provider_event_id="ev-1",
                outbox_id=found,
                kind="processed",
                at=outbox.clock.now(),
                data={"sg_message_id": stored_ana.id, "journeykit_key": outbox.get(found).key},
            )
        )
    sandbox.store.clear()  # pretend bo's request never reached SendGrid
    outbox.later(minutes=5)  # past the SMS window: an email's events may still be on their way
    assert send_due(outbox.runtime, senders, limit=10).reconciled == 1  # ana's event is in
    assert outbox.get(lost).status == "sending" and sandbox.store.count(to="bo@example.com") == 0
    outbox.later(minutes=15)  # past the email window: no event, so SendGrid never took it
    report = send_due(outbox.runtime, senders, limit=10)
    assert report.reconciled == 1 and report.sent == 1
    assert outbox.get(found).status == "sent"
    assert outbox.get(found).provider_id == stored_ana.request_id
    assert outbox.get(lost).status == "sent" and sandbox.store.count(to="bo@example.com") == 1
    assert sandbox.store.count(to="ana@example.com") == 0  # never sent twice


def test_identical_emails_go_in_one_request(outbox: Outbox, sandbox: SandboxServer) -> None:
    ids = [outbox.row("email", to=f"r{i}@example.com") for i in range(5)]
    calls: list[str] = []
    senders = make_senders(sandbox, before_send=calls.append)
    report = send_due(outbox.runtime, senders, limit=10)
    assert (report.sent, report.requests, calls) == (5, 1, ["email"])
    stored = sandbox.store.messages(provider="sendgrid")
    assert len({m.request_id for m in stored}) == 1 and len(stored) == 5
    keys = {outbox.get(i).key for i in ids}
    assert {m.custom_args["journeykit_key"] for m in stored} == keys


def test_rate_limit_hook_runs_once_per_request(outbox: Outbox, sandbox: SandboxServer) -> None:
    for i in range(3):
        outbox.row("sms", to=f"+1555123000{i}")
    outbox.row("email", to="a@example.com", html="<p>a</p>")
    outbox.row("email", to="b@example.com", html="<p>b</p>")
    calls: list[str] = []
    send_due(outbox.runtime, make_senders(sandbox, before_send=calls.append), limit=10)
    assert sorted(calls) == ["email", "sms", "sms", "sms"]  # both emails share a request


def test_row_due_inside_quiet_hours_is_deferred_at_claim(
    outbox: Outbox, sandbox: SandboxServer
) -> None:
    note = {"rule": "quiet_window", "zones": ["Asia/Seoul"], "windows": [["21:00", "08:00"]]}
    row_id = outbox.row("sms", decisions=[note])  # 15:00 UTC = 00:00 in Seoul
    report = send_due(outbox.runtime, make_senders(sandbox), limit=10)
    row = outbox.get(row_id)
    assert report.deferred == 1 and row.status == "queued" and sandbox.store.count() == 0
    assert row.due_at.isoformat().startswith("2027-03-01T23:00:00")  # 08:00 KST
    outbox.clock.set(row.due_at)
    assert send_due(outbox.runtime, make_senders(sandbox), limit=10).sent == 1


def test_expired_row_is_not_sent(outbox: Outbox, sandbox: SandboxServer) -> None:
    row_id = outbox.row("sms", expires_in=timedelta(hours=1))
    outbox.later(hours=2)
    report = send_due(outbox.runtime, make_senders(sandbox), limit=10)
    assert report.expired == 1 and outbox.get(row_id).status == "expired"
    assert sandbox.store.count() == 0


def test_settings_default_senders_point_status_callback_at_the_web_app() -> None:
    from journeykit.delivery.providers.from_settings import build_senders

    senders = build_senders(Settings().with_changes({"web.public_base_url": "https://jk.example/"}))
    assert senders.status_callback == "https://jk.example/webhooks/twilio/status"
    assert senders.before_send is None  # no Prefect API configured: no limiter


def test_sms_links_become_tracked_short_links_once(outbox: Outbox, sandbox: SandboxServer) -> None:
    from sqlmodel import Session, select

    from journeykit.foundation.models import ShortLink

    long = "https://jk.example/a/eyJlIjoxLCJhIjoiYnV5In0.very-long-signed-token"
    body = f"Sofa is back! Buy: {long}. Or view https://shop.example/p/sofa?v=1 (limited)"
    sandbox.faults.script("500")
    row_id = outbox.row("sms", body=body)
    senders = make_senders(sandbox)
    send_due(outbox.runtime, senders, limit=10)
    first = outbox.get(row_id).content
    outbox.later(minutes=10)
    send_due(outbox.runtime, senders, limit=10)
    row = outbox.get(row_id)
    [stored] = sandbox.store.messages(provider="twilio")
    with Session(outbox.engine) as s:
        links = {link.url: link for link in s.exec(select(ShortLink)).all()}
    assert set(links) == {long, "https://shop.example/p/sofa?v=1"}
    assert all(link.message_key == row.key for link in links.values())
    code = links[long].code
    assert stored.body == row.content["body"] == first["body"]  # the retry sent the same bytes
    assert stored.body.startswith(
        f"Sofa is back! Buy: {outbox.settings.web.public_base_url}/l/{code}."
    )
    assert stored.body.endswith(" (limited)") and row.content["long_body"] == body
    assert row.content["segments"] == 1 and row.status == "sent"

"""The "done when" test: a restock wave (email + SMS) through the real engine, the real
SDKs and the sandbox with 10 % injected 429 / 500 / timeouts, proving exactly one accepted
message per recipient and channel, none inside quiet hours, none without consent, every
opt-out honoured. 1,000 recipients by default; 5,000 with ``-m slow``."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from journeykit_rigs import fixtures as testing
from sqlmodel import Session, select

from journeykit.foundation.models import Consent, Customer, OutboxMessage
from journeykit.language.nodes import parse_local_time
from journeykit.messaging.signed_links import read_unsubscribe
from journeykit.sandbox.server import SandboxServer
from journeykit.timing.quiet_hours import is_quiet
from tests.delivery.conftest import make_senders
from tests.delivery.wave import Recipient, Wave

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox

NIGHT = [(parse_local_time("21:00"), parse_local_time("09:00"))]  # restock's, wider than law


def expected(p: Recipient, channel: str) -> bool:
    """Whether this recipient must get exactly one message on ``channel``."""
    if channel not in p.channels:
        return False
    if channel == "sms":
        return not p.sms_stop and p.magic is None
    return not p.email_unsubscribed


def run_wave(tmp_path: Path, box: SandboxServer, size: int) -> Wave:
    box.faults.update(
        rate_429=0.04, rate_500=0.03, rate_timeout=0.03, retry_after_s=2, timeout_delay_s=2.0,
        seed=size,
    )  # fmt: skip
    wave = Wave(tmp_path, box, size)
    wave.sign_up()
    wave.restock()
    wave.send(make_senders(box, timeout_s=1.0, concurrency=16))
    return wave


def check_wave(wave: Wave, box: SandboxServer) -> dict[str, object]:
    with Session(wave.engine) as s:
        rows = s.exec(select(OutboxMessage)).all()
        customers = {c.id: c for c in s.exec(select(Customer)).all()}
        consents = s.exec(select(Consent).order_by(Consent.recorded_at, Consent.id)).all()
    assert not [r for r in rows if r.status in ("queued", "sending")]

    # Exactly one accepted message per recipient and channel, counted in the sandbox.
    email_keys = Counter(m.custom_args["journeykit_key"] for m in box.store.messages("sendgrid"))
    sms_to = Counter(m.to for m in box.store.messages("twilio"))
    sent = {(r.customer_id, r.channel): r for r in rows if r.status == "sent"}
    for p in wave.people:
        cid = next(c.id for c in customers.values() if c.external_id == p.external_id)
        for channel in ("email", "sms"):
            row = sent.get((cid, channel))
            if not expected(p, channel):
                assert row is None, (p, channel)
                continue
            assert row is not None, (p, channel)
            if channel == "email":
                assert email_keys[row.key] == 1, row.key
            else:
                assert sms_to[p.phone] == 1, p.phone
    assert sum(email_keys.values()) == len([k for k in sent if k[1] == "email"])
    assert sum(sms_to.values()) == len([k for k in sent if k[1] == "sms"])
    assert max(Counter(r.key for r in rows).values()) == 1

    # None inside quiet hours (the claim instant on the engine's clock) ...
    for row in rows:
        if row.channel == "sms" and row.status == "sent":
            tz = customers[row.customer_id].timezone
            assert not any(is_quiet(row.last_attempt_at, tz, a, b) for a, b in NIGHT), row.key
    # ... and none without consent at that instant.
    latest: dict[tuple[int, str], bool] = {}
    for c in consents:
        latest[(c.customer_id, c.channel)] = c.granted
    for row in rows:
        if row.status == "sent":
            assert latest[(row.customer_id, row.channel)] is True, row.key

    # Every opt-out honoured: STOP and unsubscribes suppressed, 21610 recorded as opt-out.
    suppressed = Counter(r.error.split(" (")[0] for r in rows if r.status == "suppressed")
    assert suppressed["opted out of sms"] == sum(p.sms_stop for p in wave.people)
    assert suppressed["unsubscribed from email"] == sum(p.email_unsubscribed for p in wave.people)
    opted = [r for r in rows if r.error_code == "21610"]
    assert opted and all(r.status == "failed" for r in opted)
    assert all(latest[(r.customer_id, "sms")] is False for r in opted)
    assert {r.error_code for r in rows if r.status == "failed"} == {"21610", "21211"}

    # The faults did happen, and nothing was resent blindly.
    retried = [r for r in rows if r.status == "sent" and r.attempts > 1]
    reconciled = [r for r in rows if any(d.get("rule") == "reconcile" for d in r.decisions)]
    deferred = [r for r in rows if any(d.get("rule") == "quiet_hours" for d in r.decisions)]
    assert retried and reconciled and deferred
    _check_marketing_email(box, wave)
    accepted = sum(email_keys.values()) + sum(sms_to.values())
    return {
        "recipients": wave.size,
        "accepted": accepted,
        "requests": wave.requests,
        "rounds": wave.rounds,
        "retried": len(retried),
        "reconciled": len(reconciled),
        "deferred_quiet": len(deferred),
        "send_seconds": round(wave.send_seconds, 2),
        "messages_per_s": round(accepted / wave.send_seconds, 1),
    }


def _check_marketing_email(box: SandboxServer, wave: Wave) -> None:
    m = box.store.messages("sendgrid")[0]
    unsubscribe = m.headers["List-Unsubscribe"]
    assert m.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe.startswith("<https://jk.example/u/") and unsubscribe.endswith(">")
    customer_id, channel = read_unsubscribe("wave-secret", unsubscribe[1:-1].rsplit("/", 1)[1])
    assert channel == "email" and customer_id > 0
    assert unsubscribe[1:-1] in m.html  # the visible link too
    assert 'style="' in m.html and "<style" in m.html  # inlined, @media kept
    assert "You asked us to tell you first." in m.html  # the preheader is sent
    assert '<html lang="en">' in m.html and m.text and "<" not in m.text.split("\n")[0]
    assert json.loads(m.raw)["personalizations"][0]["custom_args"]["journeykit_key"]


def test_wave_1000(tmp_path: Path, sandbox: SandboxServer) -> None:
    wave = run_wave(tmp_path, sandbox, 1000)
    print(json.dumps(check_wave(wave, sandbox)))


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_wave_5000(tmp_path: Path, sandbox: SandboxServer) -> None:
    wave = run_wave(tmp_path, sandbox, 5000)
    print(json.dumps(check_wave(wave, sandbox)))

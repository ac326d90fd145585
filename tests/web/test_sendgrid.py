"""SendGrid Event Webhook signed with ECDSA P-256 (as the sandbox does): events recorded
against the outbox row, opt-outs to the consent ledger, clicks as actions; forged,
malformed, stale and duplicate deliveries change nothing."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import select

from journeykit.foundation.models import Consent, CustomerAction, MessageEvent, OutboxMessage
from tests.web.conftest import Web

PATH = "/webhooks/sendgrid/events"


def post(web: Web, events: Any, *, key: Any = None, ts: int | None = None, **override: str) -> Any:
    body = json.dumps(events).encode() if not isinstance(events, bytes) else events
    timestamp = str(ts if ts is not None else int(web.clock.now().timestamp()))
    signer = key or web.sendgrid_key
    signature = signer.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        **override,
    }
    return web.client().post(PATH, content=body, headers=headers)


def email_row(web: Web) -> OutboxMessage:
    return web.outbox("apology_email")


def event(web: Web, kind: str, n: int, **extra: Any) -> dict[str, Any]:
    row = email_row(web)
    return {
        "event": kind,
        "sg_event_id": f"ev{n}",
        "email": row.to_address,
        "journeykit_key": row.key,
        "sg_message_id": "msgid.filter1",
        "timestamp": int(web.clock.now().timestamp()),
        **extra,
    }


def message_events(web: Web) -> list[MessageEvent]:
    with web.session() as session:
        return list(session.exec(select(MessageEvent)).all())


def test_events_are_recorded_against_the_message(delay_web: Web) -> None:
    row = email_row(delay_web)
    with delay_web.session() as session:
        fresh = session.get(OutboxMessage, row.id)
        assert fresh is not None
        fresh.status = "sent"
        session.add(fresh)
        session.commit()
    batch = [event(delay_web, k, i) for i, k in enumerate(["delivered", "open", "processed"])]
    response = post(delay_web, batch)
    assert response.status_code == 200 and response.json() == {"applied": 3, "duplicates": 0}
    assert {e.outbox_id for e in message_events(delay_web)} == {row.id}
    assert delay_web.outbox("apology_email").status == "delivered"
    again = post(delay_web, batch)
    assert again.json() == {"applied": 0, "duplicates": 3}
    assert len(message_events(delay_web)) == 3


@pytest.mark.parametrize("kind", ["bounce", "spamreport", "unsubscribe"])
def test_opt_out_events_stop_marketing_email(delay_web: Web, kind: str) -> None:
    post(delay_web, [event(delay_web, kind, 1, reason="550 no such user")])
    with delay_web.session() as session:
        latest = session.exec(
            select(Consent).where(Consent.channel == "email").order_by(Consent.id.desc())  # type: ignore[union-attr]
        ).first()
    assert latest is not None and latest.granted is False and latest.source == f"sendgrid:{kind}"


def test_click_is_a_customer_action_once(delay_web: Web) -> None:
    click = event(delay_web, "click", 5, url="https://shop.example/p/sofa")
    post(delay_web, [click])
    post(delay_web, [click])
    with delay_web.session() as session:
        acted = session.exec(select(CustomerAction)).all()
    assert [(a.name, a.source) for a in acted] == [("click", "email_event")]


def test_found_by_message_id_when_custom_args_are_missing(delay_web: Web) -> None:
    row = email_row(delay_web)
    with delay_web.session() as session:
        fresh = session.get(OutboxMessage, row.id)
        assert fresh is not None
        fresh.provider_id = "XMSG1"
        session.add(fresh)
        session.commit()
    post(delay_web, [{"event": "open", "sg_event_id": "e9", "sg_message_id": "XMSG1.f.0"}])
    assert message_events(delay_web)[0].outbox_id == row.id


def test_forged_malformed_and_stale_are_403(delay_web: Web) -> None:
    batch = [event(delay_web, "unsubscribe", 1)]
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert post(delay_web, batch, key=other_key).status_code == 403
    bad = {"X-Twilio-Email-Event-Webhook-Signature": "!!not base64!!"}
    assert post(delay_web, batch, **bad).status_code == 403
    junk = {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"junk").decode()}
    assert post(delay_web, batch, **junk).status_code == 403
    assert delay_web.client().post(PATH, json=batch).status_code == 403
    stale = int(delay_web.clock.now().timestamp()) - 3600
    assert post(delay_web, batch, ts=stale).status_code == 403
    assert message_events(delay_web) == []


def test_malformed_body_is_400_and_nothing_kept(delay_web: Web) -> None:
    assert post(delay_web, b"{nope").status_code == 400
    assert post(delay_web, {"event": "open"}).status_code == 400
    half = [event(delay_web, "open", 1), {"event": "open"}]  # the second has no sg_event_id
    assert post(delay_web, half).status_code == 400
    assert message_events(delay_web) == []

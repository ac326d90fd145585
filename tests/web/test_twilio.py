"""Twilio webhooks signed with the real RequestValidator: numbered replies, keywords,
duplicates, status callbacks (forwards only, 21610 = opt-out), forged signatures."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from twilio.request_validator import RequestValidator

from journeykit.foundation.models import Consent, CustomerAction, MessageEvent, OutboxMessage
from tests.web.conftest import PUBLIC, TWILIO_TOKEN, Web


def signed_post(web: Web, path: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> Any:
    signature = RequestValidator(token).compute_signature(PUBLIC + path, params)
    return web.client().post(path, data=params, headers={"X-Twilio-Signature": signature})


def inbound(web: Web, body: str, sid: str = "SM1", sender: str = "+14155550123") -> Any:
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}
    return signed_post(web, "/webhooks/twilio/sms", params)


def sms_consent(web: Web) -> list[tuple[bool, str]]:
    with web.session() as session:
        rows = session.exec(select(Consent).where(Consent.channel == "sms")).all()
    return [(r.granted, r.source) for r in rows]


def test_numbered_reply_is_the_choice_and_moves_on(delay_web: Web) -> None:
    response = inbound(delay_web, " 2 ")
    assert response.status_code == 200 and "<Response" in response.text
    with delay_web.session() as session:
        acted = session.exec(select(CustomerAction)).one()
    assert (acted.name, acted.source, acted.key) == ("credit", "sms", "sms:SM1")
    assert delay_web.enrollment("delay_apology").status == "completed"


def test_duplicate_message_sid_is_ignored(delay_web: Web) -> None:
    inbound(delay_web, "9", sid="SM7")  # not a choice: ignored, but remembered
    inbound(delay_web, "1", sid="SM7")  # a retry under the same sid: ignored
    with delay_web.session() as session:
        assert session.exec(select(CustomerAction)).all() == []
        assert len(session.exec(select(MessageEvent)).all()) == 1
    assert delay_web.enrollment("delay_apology").node_id == "wait_choice"


def test_keywords_update_consent_and_help_replies(delay_web: Web) -> None:
    before = sms_consent(delay_web)
    inbound(delay_web, "stop", sid="SM2")
    inbound(delay_web, "START", sid="SM3")
    help_reply = inbound(delay_web, "HELP", sid="SM4")
    assert sms_consent(delay_web)[len(before) :] == [(False, "sms:STOP"), (True, "sms:START")]
    assert delay_web.settings.sending.sms_help_text.split(":")[0] in help_reply.text
    assert "<Message>" in help_reply.text


def test_forged_or_unsigned_sms_is_403(delay_web: Web) -> None:
    params = {"MessageSid": "SM9", "From": "+14155550123", "Body": "STOP"}
    before = sms_consent(delay_web)
    assert signed_post(delay_web, "/webhooks/twilio/sms", params, "wrong").status_code == 403
    unsigned = delay_web.client().post("/webhooks/twilio/sms", data=params)
    assert unsigned.status_code == 403
    assert sms_consent(delay_web) == before


def status(web: Web, sid: str, state: str, code: str | None = None) -> Any:
    params = {"MessageSid": sid, "MessageStatus": state, "To": "+14155550123"}
    if code:
        params["ErrorCode"] = code
    return signed_post(web, "/webhooks/twilio/status", params)


def sent_sms(web: Web) -> OutboxMessage:
    with web.session() as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "sms")).first()
        assert row is not None
        row.status, row.provider_id = "sent", "SMabc"
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def test_status_moves_forwards_only(delay_web: Web) -> None:
    row = sent_sms(delay_web)
    assert status(delay_web, "SMabc", "delivered").status_code == 200
    status(delay_web, "SMabc", "sent")  # late, out of order: never backwards
    status(delay_web, "SMabc", "delivered")  # duplicate
    with delay_web.session() as session:
        assert session.get(OutboxMessage, row.id).status == "delivered"  # type: ignore[union-attr]
        assert len(session.exec(select(MessageEvent)).all()) == 2


def test_undelivered_21610_fails_the_row_and_opts_out(delay_web: Web) -> None:
    row = sent_sms(delay_web)
    status(delay_web, "SMabc", "undelivered", "21610")
    with delay_web.session() as session:
        fresh = session.get(OutboxMessage, row.id)
        assert fresh is not None and (fresh.status, fresh.error_code) == ("failed", "21610")
    assert sms_consent(delay_web)[-1] == (False, "twilio:21610")


def test_forged_status_is_403(delay_web: Web) -> None:
    row = sent_sms(delay_web)
    params = {"MessageSid": "SMabc", "MessageStatus": "delivered"}
    assert signed_post(delay_web, "/webhooks/twilio/status", params, "x").status_code == 403
    with delay_web.session() as session:
        assert session.get(OutboxMessage, row.id).status == "sent"  # type: ignore[union-attr]

"""Retries that arrive at the same time, on a real uvicorn server: still one row each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlmodel import select
from twilio.request_validator import RequestValidator

from journeykit.foundation.models import CustomerAction, DomainEvent, MessageEvent
from tests.web.conftest import API_KEY, TWILIO_TOKEN, LiveServer, delayed, order_placed, product


def together(count: int, call: Any) -> list[httpx.Response]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_same_idempotency_key_at_once_is_one_event(live: LiveServer) -> None:
    headers = {"X-Api-Key": API_KEY, "Idempotency-Key": "same"}

    def post() -> httpx.Response:
        return httpx.post(f"{live.url}/events", json=product(), headers=headers, timeout=30)

    answers = together(6, post)
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["event_id"] for a in answers}) == 1
    with live.web.session() as session:
        assert len(session.exec(select(DomainEvent)).all()) == 1


def test_same_sms_reply_at_once_is_one_action(live: LiveServer) -> None:
    web = live.web
    web.emit(product(), "p")
    web.emit(order_placed(), "o")
    web.emit(delayed(), "d")
    params = {"MessageSid": "SMdup", "From": "+14155550123", "Body": "1"}
    url = f"{live.url}/webhooks/twilio/sms"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)

    def post() -> httpx.Response:
        return httpx.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)

    answers = together(5, post)
    assert {a.status_code for a in answers} == {200}
    with web.session() as session:
        assert [a.name for a in session.exec(select(CustomerAction)).all()] == ["expedite"]
        assert len(session.exec(select(MessageEvent)).all()) == 1
    assert web.enrollment("delay_apology").status == "completed"

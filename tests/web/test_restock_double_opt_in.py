"""Restock widget signups are double opt-in (issue 16): the widget's form token is public, so
a signup from it sends a confirmation (an email link, a text message link) through the real
SDKs to the sandbox, and only pressing "confirm" on the linked page records the signup
(with the consent wording the shopper saw). Opening the link alone changes nothing; a
forged link is refused; signups are rate-limited per address and per client; only the
shop's origins may post the form."""

from __future__ import annotations

import re
from typing import Any

from journeykit_rigs import fixtures as testing
from pydantic import SecretStr
from sqlmodel import select

from journeykit.foundation.models import Consent, RestockSignup
from journeykit.sandbox.server import SandboxServer
from journeykit.web.app import create_app
from tests.web.conftest import Web, product
from tests.web.test_action_links import token_of

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox


def use_sandbox(web: Web, box: SandboxServer, **web_changes: Any) -> Web:
    """Point the app's providers at the sandbox (and rebuild the app with ``web_changes``)."""
    changes = {
        "providers.sendgrid.base_url": box.url,
        "providers.twilio.base_url": box.url,
        "providers.twilio.account_sid": box.account_sid,
        "providers.twilio.auth_token": box.auth_token,
        "providers.sendgrid.api_key": box.sendgrid_api_key,
        **{f"web.{k}": v for k, v in web_changes.items()},
    }
    web.settings = web.settings.with_changes(changes)
    web.runtime.settings = web.settings
    web.runtime.cache.clear()
    web.app = create_app(web.settings, web.runtime)
    assert isinstance(web.settings.providers.twilio.auth_token, SecretStr)
    return web


def form_token(web: Web, locale: str = "en") -> str:
    script = web.client().get(f"/widget/restock.js?locale={locale}")
    found = re.search(r'"token": "([^"]+)"', script.text)
    assert found
    return found.group(1)


def widget_signup(web: Web, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    data = {"sku": "SOFA-1", "channels": "email", "form_token": form_token(web), **fields}
    return web.client().post("/restock/signups", data=data, headers=headers or {})


def signups(web: Web) -> list[RestockSignup]:
    with web.session() as session:
        return list(session.exec(select(RestockSignup)).all())


def confirm_link(text: str, web: Web) -> str:
    base = re.escape(web.settings.web.public_base_url)
    found = re.search(base + r"(/restock/confirm/[A-Za-z0-9_.\-]+)", text)
    assert found, text
    return found.group(1)


def test_email_signup_is_recorded_only_once_confirmed(web: Web, sandbox: SandboxServer) -> None:
    use_sandbox(web, sandbox)
    web.emit(product(), "p")
    answer = widget_signup(web, email="kim@example.com", locale="ko")
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "confirmation_sent" and "이메일" in answer.json()["message"]
    assert signups(web) == [], "nothing is recorded before the confirmation"
    (mail,) = sandbox.store.messages(provider="sendgrid", to="kim@example.com")
    assert "Sofa" in mail.subject
    path = confirm_link(mail.text, web)
    client = web.client()
    page = client.get(path)
    assert page.status_code == 200 and "content-security-policy" in page.headers
    assert signups(web) == [], "opening the link changes nothing"
    for _ in range(2):  # pressing twice records one signup
        done = client.post(path, data={"csrf_token": token_of(page.text)})
        assert done.status_code == 200, done.text
    (signup,) = signups(web)
    assert signup.consent_wording.startswith("이 상품이 재입고되면 이메일로")
    with web.session() as session:
        consent = session.exec(select(Consent).where(Consent.wording != "")).one()
    assert consent.wording == signup.consent_wording and consent.granted


def test_phone_signup_gets_a_confirmation_text(web: Web, sandbox: SandboxServer) -> None:
    use_sandbox(web, sandbox)
    web.emit(product(), "p")
    answer = widget_signup(web, phone="+1 415 555 0123", channels="sms")
    assert answer.status_code == 202, answer.text
    (sms,) = sandbox.store.messages(provider="twilio")
    assert sms.to == "+14155550123" and "/restock/confirm/" in sms.body
    assert signups(web) == []
    path = confirm_link(sms.body, web)
    client = web.client()
    page = client.get(path)
    assert client.post(path, data={"csrf_token": token_of(page.text)}).status_code == 200
    assert [s.channel for s in signups(web)] == ["sms"]


def test_forged_or_csrf_less_confirmations_record_nothing(web: Web, sandbox: SandboxServer) -> None:
    use_sandbox(web, sandbox)
    web.emit(product(), "p")
    widget_signup(web, email="kim@example.com")
    (mail,) = sandbox.store.messages(provider="sendgrid")
    path = confirm_link(mail.text, web)
    client = web.client()
    assert client.get(path[:-3] + "xyz").status_code == 404
    assert client.post(path, data={}).status_code == 403
    assert client.post(path[:-3] + "xyz", data={}).status_code == 404
    assert signups(web) == []


def test_signups_are_rate_limited_per_address_and_per_client(
    web: Web, sandbox: SandboxServer
) -> None:
    use_sandbox(web, sandbox, signups_per_address="2/hour", signups_per_client="4/hour")
    web.emit(product(), "p")
    answers = [widget_signup(web, email="same@example.com").status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    other = widget_signup(web, email="other@example.com")
    assert other.status_code == 202
    limited = widget_signup(web, email="third@example.com")  # the client's 5th in the hour
    assert limited.status_code == 429 and limited.json()["detail"][0]["loc"] == ["body", "email"]
    assert limited.json()["detail"][0]["type"] == "rate_limited_client"
    assert "retry-after" in limited.headers
    assert len(sandbox.store.messages(provider="sendgrid")) == 3


def test_only_shop_origins_may_post_the_widget(web: Web, sandbox: SandboxServer) -> None:
    use_sandbox(web, sandbox, shop_origins=["https://brand.example"])
    web.emit(product(), "p")
    evil = widget_signup(web, email="a@example.com", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    shop = widget_signup(web, email="a@example.com", headers={"Origin": "https://brand.example"})
    assert shop.status_code == 202
    store = widget_signup(web, email="b@example.com", headers={"Origin": "https://shop.example"})
    assert store.status_code == 202  # the store's own site (store.url) is always allowed
    assert len(sandbox.store.messages(provider="sendgrid")) == 2


def test_each_channel_confirms_its_own_signup(web: Web, sandbox: SandboxServer) -> None:
    use_sandbox(web, sandbox)
    web.emit(product(), "p")
    data = {
        "sku": "SOFA-1",
        "channels": ["email", "sms"],
        "email": "both@example.com",
        "phone": "+14155550199",
        "form_token": form_token(web),
    }
    assert web.client().post("/restock/signups", data=data).status_code == 202
    (mail,) = sandbox.store.messages(provider="sendgrid")
    assert len(sandbox.store.messages(provider="twilio")) == 1
    client = web.client()
    path = confirm_link(mail.text, web)
    page = client.get(path)
    assert client.post(path, data={"csrf_token": token_of(page.text)}).status_code == 200
    (signup,) = signups(web)
    assert signup.channel == "email" and "Text me" not in signup.consent_wording

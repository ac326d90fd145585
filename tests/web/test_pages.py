"""Preferences / unsubscribe (form + RFC 8058 one-click), back-in-stock signups and the
widget, short-link redirects, and a clean OpenAPI schema."""

from __future__ import annotations

from sqlmodel import select

from journeykit.foundation.models import Consent, MessageEvent, RestockSignup, ShortLink
from journeykit.messaging.shortlinks import shorten
from journeykit.messaging.signed_links import sign_unsubscribe
from tests.web.conftest import API_KEY, Web, product
from tests.web.test_action_links import token_of


def email_consents(web: Web) -> list[tuple[bool, str]]:
    with web.session() as session:
        rows = session.exec(select(Consent).where(Consent.channel == "email")).all()
    return [(r.granted, r.source) for r in rows]


def unsubscribe_path(web: Web, customer_id: int = 1, channel: str = "email") -> str:
    secret = web.settings.web.signing_secret.get_secret_value()
    return "/u/" + sign_unsubscribe(secret, customer_id=customer_id, channel=channel)


def test_one_click_unsubscribe_needs_no_cookie_and_is_idempotent(delay_web: Web) -> None:
    path = unsubscribe_path(delay_web)
    client = delay_web.client()
    for _ in range(2):
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    assert email_consents(delay_web)[1:] == [(False, "one-click unsubscribe")]


def test_preferences_page_saves_with_csrf(delay_web: Web) -> None:
    client = delay_web.client()
    path = unsubscribe_path(delay_web).replace("/u/", "/preferences/")
    page = client.get(path)
    assert page.status_code == 200 and 'id="email" name="email" value="on" checked' in page.text
    assert client.post(path, data={"op": "save", "sms": "on"}).status_code == 403
    saved = client.post(path, data={"csrf_token": token_of(page.text), "op": "save", "sms": "on"})
    assert saved.status_code == 200 and "saved" in saved.text
    assert email_consents(delay_web)[-1] == (False, "preferences page")


def test_bad_unsubscribe_token_is_friendly(delay_web: Web) -> None:
    client = delay_web.client()
    assert client.get("/u/forged").status_code == 404
    assert client.post("/u/forged", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert email_consents(delay_web) == [(True, "store")]


def test_signup_auth_and_validation(web: Web) -> None:
    web.emit(product(), "p")
    client = web.client()
    body = {"sku": "SOFA-1", "email": "a@example.com", "channels": ["email"]}
    assert client.post("/restock/signups", json=body).status_code == 401
    forged = client.post("/restock/signups", json={**body, "form_token": "x.y.z"})
    assert forged.status_code == 401
    headers = {"X-Api-Key": API_KEY}
    missing_wording = client.post("/restock/signups", json=body, headers=headers)
    assert missing_wording.status_code == 422
    bad_email = {**body, "email": "nope", "consent_wording": "Tell me"}
    invalid = client.post("/restock/signups", json=bad_email, headers=headers)
    assert invalid.status_code == 422 and "email" in invalid.text
    bad_phone = {**body, "channels": ["sms"], "phone": "12", "consent_wording": "Tell me"}
    assert client.post("/restock/signups", json=bad_phone, headers=headers).status_code == 422
    ok = {**body, "consent_wording": "Email me when it is back"}
    assert client.post("/restock/signups", json=ok, headers=headers).status_code == 202
    with web.session() as session:
        assert len(session.exec(select(RestockSignup)).all()) == 1


def test_widget_demo_page(web: Web) -> None:
    page = web.client().get("/widget/restock?sku=SOFA-1&lang=ja")
    assert page.status_code == 200 and 'lang="ja"' in page.text
    assert 'data-sku="SOFA-1"' in page.text and "/widget/restock.js" in page.text


def test_short_link_redirects_and_records_the_click(delay_web: Web) -> None:
    row = delay_web.outbox("apology_email")
    with delay_web.session() as session:
        short = shorten(
            session,
            "https://shop.example/p/sofa",
            message_key=row.key,
            base_url=delay_web.settings.web.public_base_url,
        )
        session.commit()
    client = delay_web.client()
    path = short.removeprefix(delay_web.settings.web.public_base_url)
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "https://shop.example/p/sofa"
    client.get(path, follow_redirects=False)
    with delay_web.session() as session:
        link = session.exec(select(ShortLink)).one()
        clicks = session.exec(select(MessageEvent).where(MessageEvent.kind == "click")).all()
    assert link.clicks == 2 and {c.outbox_id for c in clicks} == {row.id}
    assert client.get("/l/zzzzzzz").status_code == 404
    assert client.get("/l/bad-code!").status_code == 404


def test_openapi_schema_is_clean(web: Web) -> None:
    schema = web.client().get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/events",
        "/webhooks/twilio/sms",
        "/webhooks/sendgrid/events",
        "/restock/signups",
        "/a/{token}",
        "/u/{token}",
        "/l/{code}",
    ):
        assert path in paths, path
    event_body = paths["/events"]["post"]["requestBody"]["content"]["application/json"]
    assert "discriminator" in event_body["schema"] or "oneOf" in event_body["schema"]
    assert "401" in paths["/events"]["post"]["responses"]
    assert "403" in paths["/webhooks/sendgrid/events"]["post"]["responses"]


def test_unknown_page_is_a_friendly_404(web: Web) -> None:
    page = web.client().get("/nope", headers={"Accept": "text/html", "Accept-Language": "ja"})
    assert page.status_code == 404 and "ページが見つかりません" in page.text
    assert web.client().get("/nope").json() == {"detail": "Not Found"}


def test_wrong_method_lists_every_allowed_method(web: Web) -> None:
    client = web.client()
    response = client.request("OPTIONS", "/a/some-token")
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
    assert client.delete("/events").headers["allow"] == "POST"

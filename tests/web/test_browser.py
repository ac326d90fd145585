"""Real headless Chromium (Debian's, driven by Playwright) against a real uvicorn server:
the delay-apology choice, the review form, the help form, preferences and the restock
widget, in English and Korean."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from journeykit_rigs import fixtures as testing
from pydantic import SecretStr
from sqlmodel import select

from journeykit.foundation.models import Consent, RestockSignup, Review, SupportTicket
from journeykit.sandbox.server import SandboxServer
from tests.web.conftest import LiveServer, delayed, order_placed, product
from tests.web.images import image_bytes

sandbox_server = testing.sandbox_server
sandbox = testing.sandbox

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian chromium is missing: apt-get install -y chromium (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


UNLABELLED = """() => Array.from(document.querySelectorAll("input, textarea, select, button"))
  .filter(el => el.type !== "hidden")
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
                && !(el.tagName === "BUTTON" && el.textContent.trim()))
  .map(el => el.outerHTML)"""


def assert_accessible(page: Any, locale: str) -> None:
    """lang set, one h1, every control labelled (by <label for>, aria-label or its text)."""
    assert page.locator("html").get_attribute("lang") == locale
    assert page.locator("h1").count() == 1
    assert page.evaluate(UNLABELLED) == []


def page_for(browser: Any, locale: str) -> Any:
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    return context.new_page()


@pytest.mark.parametrize(
    ("locale", "done", "already"),
    [
        ("en", "We have recorded your choice", "You already chose"),
        ("ko", "선택하신 내용이 저장되었습니다", "이미 선택하셨습니다"),
    ],
)
def test_delay_choice_get_shows_post_acts_once(
    browser: Any, live: LiveServer, locale: str, done: str, already: str
) -> None:
    web = live.web
    web.emit(product(), "p")
    web.emit(order_placed(locale=locale), "o")
    web.emit(delayed(), "d")
    page = page_for(browser, locale)
    link = live.url + web.links("apology_email")["credit"]
    page.goto(link)
    assert_accessible(page, locale)
    assert "1001" in page.locator("h2").inner_text()
    assert web.enrollment("delay_apology").node_id == "wait_choice"  # the GET did nothing
    page.locator("#confirm").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # keyboard works as well as a mouse
    assert done in page.locator("main").inner_text()
    assert web.enrollment("delay_apology").status == "completed"
    page.go_back(wait_until="load")
    if page.locator("#confirm").count():  # the form page from history: submit it again
        with page.expect_navigation():
            page.locator("#confirm").click()
    assert already in page.locator("main").inner_text()
    page.context.close()


@pytest.mark.parametrize(("locale", "others"), [("en", "Browse and review"), ("ko", "다른 상품")])
def test_review_form_in_the_browser(
    browser: Any, live: LiveServer, tmp_path: Path, locale: str, others: str
) -> None:
    web = live.web
    for sku, title in (("SOFA-1", "Sofa"), ("LAMP-1", "Lamp")):
        web.emit(product(sku, title), sku)
    web.emit(order_placed(locale=locale, skus=("SOFA-1", "LAMP-1")), "o")
    web.emit({"type": "order.delivered", "order_number": "1001"}, "dl")
    import pendulum

    web.clock.advance(pendulum.duration(days=15))
    web.sweep()
    web.clock.advance(pendulum.duration(days=1))
    web.sweep()
    photo = tmp_path / "sofa.png"
    photo.write_bytes(image_bytes("PNG"))
    page = page_for(browser, locale)
    page.goto(live.url + web.links("ask")["review"])
    assert_accessible(page, locale)
    page.locator("label[for=rating-4]").click()
    page.locator("#title").fill("Great")
    page.locator("#body").fill("Very comfortable")
    page.locator("#photo").set_input_files(str(photo))
    with page.expect_navigation():
        page.locator("#submit-review").click()
    assert others in page.locator("main").inner_text()
    with web.session() as session:
        review = session.exec(select(Review)).one()
    assert (review.rating, review.title) == (4, "Great") and review.photo_path
    page.context.close()


TEXTS = {
    "en": {
        "help": "support team",
        "prefs": "no longer receive marketing emails",
        "undone": "subscribed again",
        "email": "Email",
        "notify": "Notify me",
        "done": "Almost done",
        "confirmed": "We will let you know",
        "wording": "Email me once",
    },
    "ko": {
        "help": "고객지원팀",
        "prefs": "더 이상 마케팅 이메일을",
        "undone": "다시 수신하도록",
        "email": "이메일",
        "notify": "알림 신청",
        "done": "거의 완료되었습니다",
        "confirmed": "재입고되면 한 번 알려",
        "wording": "이 상품이 재입고되면",
    },
}


@pytest.mark.parametrize("locale", ["en", "ko"])
def test_help_preferences_and_widget(
    browser: Any, live: LiveServer, sandbox: SandboxServer, locale: str
) -> None:
    import pendulum

    texts = TEXTS[locale]
    web = live.web
    providers = web.settings.providers  # the live app's settings: send through the sandbox
    providers.sendgrid.base_url = providers.twilio.base_url = sandbox.url
    providers.sendgrid.api_key = SecretStr(sandbox.sendgrid_api_key)
    providers.twilio.account_sid = sandbox.account_sid
    providers.twilio.auth_token = SecretStr(sandbox.auth_token)
    web.runtime.cache.clear()
    web.emit(product(), "p")
    web.emit(order_placed(locale=locale), "o")
    web.emit({"type": "order.delivered", "order_number": "1001"}, "dl")
    web.clock.advance(pendulum.duration(days=15))
    web.sweep()
    web.clock.advance(pendulum.duration(days=1))
    web.sweep()
    page = page_for(browser, locale)
    page.goto(live.url + web.links("ask")["help"])
    assert_accessible(page, locale)
    page.locator("#message").fill("The leg is loose")
    with page.expect_navigation():
        page.locator("#send-help").click()
    assert texts["help"] in page.locator("main").inner_text()
    with web.session() as session:
        assert session.exec(select(SupportTicket)).one().message == "The leg is loose"

    from journeykit.messaging.signed_links import sign_unsubscribe

    token = sign_unsubscribe(
        web.settings.web.signing_secret.get_secret_value(), customer_id=1, channel="email"
    )
    page.goto(f"{live.url}/u/{token}")  # one click unsubscribes, then offers "undo"
    assert_accessible(page, locale)
    assert texts["prefs"] in page.locator("#unsubscribed").inner_text()
    with web.session() as session:
        latest = session.exec(select(Consent).order_by(Consent.id.desc())).first()  # type: ignore[union-attr]
    assert latest is not None and latest.granted is False
    with page.expect_navigation():
        page.locator("#undo").click()
    assert texts["undone"] in page.locator("#notice").inner_text()
    with web.session() as session:
        latest = session.exec(select(Consent).order_by(Consent.id.desc())).first()  # type: ignore[union-attr]
    assert latest is not None and latest.granted is True

    page.goto(f"{live.url}/widget/restock?sku=SOFA-1&lang={locale}")
    page.locator("form.jk-restock").wait_for()
    assert_accessible(page, locale)
    page.get_by_label(texts["email"], exact=True).fill("shopper@example.com")
    page.locator("input[name=channels][value=email]").check()
    page.get_by_role("button", name=texts["notify"]).click()
    # double opt-in: "check your email" once the confirmation went out through the SDK
    page.get_by_text(texts["done"]).wait_for(timeout=20_000)
    with web.session() as session:
        assert session.exec(select(RestockSignup)).all() == []
    (mail,) = sandbox.store.messages(provider="sendgrid", to="shopper@example.com")
    link = mail.text[mail.text.index(web.settings.web.public_base_url) :].split()[0]
    page.goto(link)
    assert_accessible(page, locale)
    with page.expect_navigation():
        page.locator("#confirm-signup").click()
    assert texts["confirmed"] in page.locator("main").inner_text()
    with web.session() as session:
        signup = session.exec(select(RestockSignup)).one()
    assert signup.consent_wording.startswith(texts["wording"])
    page.context.close()

"""§5: marketing messages carry what the recipient's country's law asks, added by the
composer to every marketing message; transactional ones carry no ad label; `journeys
validate` rejects ad labels in transactional templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.authoring.preview import render_messages
from journeykit.authoring.sample import PreviewInput
from journeykit.authoring.simulate.scenario import ScenarioCustomer
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings
from journeykit.messaging.law import AD_LABELS, ad_labels_in, labels_for, recipient_country
from journeykit.messaging.law_check import check_law_labels

ROOT = Path(__file__).parents[2]
SETTINGS = Settings().with_changes(
    {
        "journeys_dir": ROOT / "journeys",
        "templates.dir": ROOT / "templates",
        "store.postal_address": "12 Harbour Road, Portland, OR 97201, USA",
        "store.optout_phone": "080-123-4567",
    }
)
BOOK = JourneyBook.from_dir(ROOT / "journeys")
MARKETING = ["abandoned_cart", "restock", "review_request", "cart_back_in_stock"]
TRANSACTIONAL = ["delay_apology", "backorder", "backorder_stock_arrived"]

KOREAN = ScenarioCustomer(
    id="C-KR",
    first_name="민지",
    timezone="Asia/Seoul",
    locale="ko",
    email="minji@example.kr",
    phone="+821012345678",
    country="KR",
    consent={"email": True, "sms": True},
)
JAPANESE = ScenarioCustomer(
    id="C-JP",
    first_name="陽菜",
    timezone="Asia/Tokyo",
    locale="ja",
    email="hina@example.jp",
    phone="+819012345678",
    country="JP",
    consent={"email": True, "sms": True},
)
AMERICAN = ScenarioCustomer(
    id="C-US",
    first_name="Ana",
    timezone="America/New_York",
    locale="en",
    email="ana@example.com",
    phone="+14155550123",
    country="US",
    consent={"email": True, "sms": True},
)


def category_of(journey: str, node_id: str) -> str:
    spec = BOOK.get(journey)
    node = next(n for n in spec.nodes if n.id == node_id)
    return getattr(node, "category", None) or spec.category


def messages(journey: str, customer: ScenarioCustomer) -> list:
    found = render_messages(BOOK.get(journey), SETTINGS, PreviewInput(customer=customer))
    assert [m.error for m in found if m.error] == []
    return found


@pytest.mark.parametrize("journey", MARKETING)
def test_korean_marketing_is_labelled_as_the_network_act_asks(journey: str) -> None:
    for message in messages(journey, KOREAN):
        if category_of(journey, message.node) == "transactional":
            continue
        if message.channel == "sms":
            body = message.content["body"]
            assert body.startswith("(광고)"), body
            assert "무료거부 080-123-4567" in body
        else:
            assert message.content["subject"].startswith("(광고)")
            for part in (message.content["html"], message.content["text"]):
                assert "12 Harbour Road" in part and "무료거부 080-123-4567" in part
                assert "수신거부: http://" in part or "수신거부: https://" in part


@pytest.mark.parametrize("journey", MARKETING)
def test_japanese_and_us_marketing_email_has_sender_address_and_opt_out(journey: str) -> None:
    for customer, sender, optout in (
        (JAPANESE, "送信者：", "配信停止："),
        (AMERICAN, "", "Unsubscribe: "),
    ):
        for message in messages(journey, customer):
            if message.channel != "email" or not message.content.get("labels"):
                continue
            text = message.content["text"]
            assert "12 Harbour Road" in text and optout in text and sender in text
            assert not any(label in message.content["subject"] for label in AD_LABELS)


@pytest.mark.parametrize("journey", TRANSACTIONAL)
@pytest.mark.parametrize("customer", [KOREAN, JAPANESE, AMERICAN], ids=["KR", "JP", "US"])
def test_transactional_messages_carry_no_ad_label(journey: str, customer: ScenarioCustomer) -> None:
    for message in messages(journey, customer):
        if category_of(journey, message.node) == "marketing":
            continue  # e.g. the backorder win-back: marketing inside a service journey
        content = message.content
        text = " ".join(str(content.get(k, "")) for k in ("subject", "html", "text", "body"))
        assert ad_labels_in(text) == [], (message.node, text[:200])
        assert "labels" not in content


def test_country_of_the_recipient() -> None:
    assert recipient_country("sms", {"phone": "+821012345678", "country": "US"}) == "KR"
    assert recipient_country("email", {"phone": "+821012345678", "country": "jp"}) == "JP"
    assert recipient_country("email", {"phone": "+821012345678"}) == "KR"
    assert recipient_country("email", {}) is None
    # unknown country: an email still gets CAN-SPAM's address and opt-out; an SMS nothing
    store = {"name": "Shop", "postal_address": "1 Main St", "optout_phone": "080"}
    labels = labels_for("email", {}, store, "https://x/u/1")
    assert labels is not None and "1 Main St" in labels.lines
    assert labels_for("sms", {"phone": "+14155550123"}, store, "") is None


def test_validate_rejects_ad_labels_in_transactional_templates(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "shop").mkdir(parents=True)
    (templates / "shop" / "status.ko.sms.txt").write_text("(광고) 주문이 출고되었습니다\n")
    (templates / "shop" / "promo.ko.sms.txt").write_text("[광고] 세일!\n")
    journey = tmp_path / "shop.yaml"
    journey.write_text(
        "name: shop\ntrigger: {event: order.placed}\nsubject: order\ncategory: transactional\n"
        "nodes:\n"
        "  - {id: status, type: send, channel: sms, template: shop/status, next: promo}\n"
        "  - {id: promo, type: send, channel: sms, category: marketing, template: shop/promo,"
        " next: done}\n"
        "  - {id: done, type: exit}\n"
    )
    errors = check_law_labels([journey], templates)
    found = {(Path(e.path).name, e.severity, e.line) for e in errors}
    assert found == {("status.ko.sms.txt", "error", 1), ("promo.ko.sms.txt", "warning", 1)}
    assert "transactional" in next(e.message for e in errors if e.is_error)

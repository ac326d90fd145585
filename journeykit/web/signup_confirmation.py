"""Double opt-in for the restock widget (issue 16): the widget's form token is public, so a
signup from it is not an event yet. Each chosen channel gets a confirmation (an email with a
link, or a text message with a link), and only opening that link and pressing "confirm"
records the ``restock.signup`` event for that channel: no alert ever reaches an address that
did not ask for it. The link is the signup itself, signed (nothing is stored before the
confirmation) and valid for ``web.signup_confirm_max_age_seconds``."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import escape
from sqlmodel import Session, select

from journeykit.delivery.providers.base import EmailMessage, SmsMessage
from journeykit.delivery.providers.sendgrid import SendGridEmailSender
from journeykit.delivery.providers.twilio import TwilioSmsSender
from journeykit.foundation.models import Product, Variant
from journeykit.web.i18n import translator
from journeykit.web.state import WebState

SALT = "journeykit.restock-confirm"
log = logging.getLogger(__name__)


class ConfirmationInvalid(ValueError):
    """A confirmation link that is forged, damaged or too old."""


def confirmation_token(state: WebState, payload: dict[str, Any]) -> str:
    return URLSafeTimedSerializer(state.secret, salt=SALT).dumps(payload)


def read_confirmation(state: WebState, token: str) -> dict[str, Any]:
    """The signup event a confirmation link carries."""
    max_age = state.settings.web.signup_confirm_max_age_seconds
    try:
        payload = URLSafeTimedSerializer(state.secret, salt=SALT).loads(token, max_age=max_age)
    except BadSignature as exc:
        raise ConfirmationInvalid("this confirmation link is not valid or has expired") from exc
    if not isinstance(payload, dict) or payload.get("type") != "restock.signup":
        raise ConfirmationInvalid("this confirmation link is not valid")
    return payload


def confirmation_key(token: str) -> str:
    """The idempotency key of a confirmation: confirming twice records one event."""
    return "confirm:" + hashlib.sha256(token.encode()).hexdigest()[:40]


def product_title(state: WebState, sku: str) -> str:
    with Session(state.runtime.engine) as session:
        row = session.exec(
            select(Product.title, Variant.title)
            .join(Variant, Variant.product_id == Product.id)  # type: ignore[arg-type]
            .where(Variant.sku == sku)
        ).first()
    if row is None:
        return sku
    title, variant = row
    return f"{title} {variant}".strip() if variant and variant != "Default Title" else title


def send_confirmation(state: WebState, payload: dict[str, Any], channel: str) -> bool:
    """Send the confirmation of ``payload`` (a signup for ``channel`` alone) to its address;
    True if the provider took it."""
    token = confirmation_token(state, payload)
    url = f"{state.settings.web.public_base_url.rstrip('/')}/restock/confirm/{token}"
    customer = payload["customer"]
    t = translator(str(customer.get("locale") or "en"))
    values = {"product": product_title(state, payload["sku"]), "store": state.settings.store.name}
    key = "restock-confirm:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    if channel == "email":
        text = t("restock.confirm_email", url=url, **values)
        html = (
            f"<p>{escape(t('restock.confirm_email_intro', **values))}</p>"
            f'<p><a href="{escape(url)}">{escape(t("restock.confirm", **values))}</a></p>'
            f"<p>{escape(t('restock.confirm_ignore', **values))}</p>"
        )
        result = _email_sender(state).send(
            EmailMessage(
                key=key,
                to=str(customer["email"]),
                subject=t("restock.confirm_subject", **values),
                html=html,
                text=text,
            )
        )
    else:
        body = t("restock.confirm_sms", url=url, **values)
        result = _sms_sender(state).send(SmsMessage(key=key, to=str(customer["phone"]), body=body))
    taken = result.outcome in ("sent", "ambiguous")  # ambiguous: it may well have gone out
    if not taken:
        log.warning("restock confirmation (%s) not sent: %s", channel, result.error)
    return taken


def _email_sender(state: WebState) -> SendGridEmailSender:
    """The SDK sender, built once per runtime (no Prefect rate limiter: one message)."""
    cache = state.runtime.cache
    if "confirmation_email" not in cache:
        cache["confirmation_email"] = SendGridEmailSender.from_settings(state.settings)
    sender: SendGridEmailSender = cache["confirmation_email"]
    return sender


def _sms_sender(state: WebState) -> TwilioSmsSender:
    cache = state.runtime.cache
    if "confirmation_sms" not in cache:
        cache["confirmation_sms"] = TwilioSmsSender.from_settings(state.settings)
    sender: TwilioSmsSender = cache["confirmation_sms"]
    return sender

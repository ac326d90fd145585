"""Turn a send node into outbox content: render the template with action links, numbered
replies, unsubscribe headers, and for marketing the labels the recipient's country's law
asks (``messaging/law.py``); frozen at enqueue time so a retry sends the same bytes. SMS
links become tracked short links when the row is first claimed (``shorten_sms_contents``),
still committed before the provider call."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlmodel import Session

from journeykit.foundation.settings import Settings
from journeykit.language.nodes import SendNode
from journeykit.messaging.law import label_email, label_sms, labels_for
from journeykit.messaging.shortlinks import shorten_many
from journeykit.messaging.signed_links import sign_action, sign_unsubscribe
from journeykit.templating.render import TemplateRenderer
from journeykit.templating.sms_segments import segments


def action_extras(
    settings: Settings,
    node: SendNode,
    *,
    enrollment_id: int,
    customer_id: int,
    now: datetime,
    category: str,
) -> dict[str, Any]:
    """links, replies, offer and unsubscribe names for the template context."""
    base = settings.web.public_base_url.rstrip("/")
    secret = settings.web.signing_secret.get_secret_value()
    offer_expires = now + node.offer_valid_for if node.offer_valid_for else None
    link_expires = offer_expires or _later(now, settings.sending.action_link_max_age_seconds)
    links = {
        action: f"{base}/a/"
        + sign_action(
            secret,
            enrollment_id=enrollment_id,
            action=action,
            node_id=node.id,
            expires_at=link_expires,
        )
        for action in node.actions
    }
    unsubscribe = f"{base}/u/" + sign_unsubscribe(
        secret, customer_id=customer_id, channel=node.channel
    )
    links["unsubscribe"] = unsubscribe
    return {
        "links": links,
        "replies": [{"number": i + 1, "action": a} for i, a in enumerate(node.actions)],
        "offer": {"expires_at": offer_expires} if offer_expires else None,
        "unsubscribe_url": unsubscribe if category == "marketing" else "",
        "preferences_url": f"{base}/preferences/{unsubscribe.rsplit('/', 1)[1]}",
    }


@lru_cache(maxsize=64)
def _later(now: datetime, seconds: float) -> datetime:
    """``now`` plus ``seconds`` (a node group's messages share ``now``: pendulum's addition
    is computed once for them). Used only for a link's expiry, read as a timestamp."""
    return now + timedelta(seconds=seconds)


def compose(
    renderer: TemplateRenderer,
    node: SendNode,
    locale: str,
    context: dict[str, Any],
    category: str,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """The content stored on the outbox row (what the sender will send). Marketing messages
    carry their country's labels; transactional ones never do."""
    labels = (
        labels_for(
            node.channel,
            dict(context.get("customer") or {}),
            dict(context.get("store") or {}),
            unsubscribe_url,
        )
        if category == "marketing"
        else None
    )
    if node.channel == "email":
        email = renderer.render_email(node.template, locale, context, reuse_shape=True)
        headers = {}
        if category == "marketing" and unsubscribe_url:
            headers = {
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        content = {
            "subject": email.subject,
            "preheader": email.preheader,
            "html": email.html,
            "text": email.text,
            "headers": headers,
            "locale": email.locale,
        }
        return label_email(content, labels) if labels else content
    sms = renderer.render_sms(node.template, locale, context, reuse_shape=True)
    replies = {str(r["number"]): r["action"] for r in context.get("replies", [])}
    body = label_sms(sms.body, labels) if labels else sms.body
    counted = segments(body) if labels else sms.segments
    return {
        "body": body,
        "locale": sms.locale,
        "segments": counted.segments,
        "encoding": counted.encoding,
        "replies": replies,
    }


# A URL in an SMS body; trailing punctuation stays outside the link.
SMS_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]]")


def shorten_sms_contents(
    session: Session, contents: dict[str, dict[str, Any]], *, base_url: str, now: datetime
) -> dict[str, dict[str, Any]]:
    """For SMS contents by outbox key: each body with every http(s) URL replaced by a tracked
    short link (``{base_url}/l/{code}``, one per URL and message: a retry reuses it), the
    segment count recomputed, the long body kept. Returns only the contents that changed;
    idempotent (``short_links`` marks done content). All links in a few statements."""
    todo = {k: c for k, c in contents.items() if not c.get("short_links") and "body" in c}
    wanted = {(k, m.group(0)) for k, c in todo.items() for m in SMS_URL.finditer(str(c["body"]))}
    links = shorten_many(session, wanted, base_url=base_url, now=now) if wanted else {}
    changed: dict[str, dict[str, Any]] = {}
    for key, content in todo.items():
        body = str(content["body"])
        new_body = SMS_URL.sub(lambda m, key=key: links[(key, m.group(0))], body)  # type: ignore[misc]
        counted = segments(new_body)
        changed[key] = {
            **content,
            "body": new_body,
            "long_body": body,
            "segments": counted.segments,
            "encoding": counted.encoding,
            "short_links": True,
        }
    return changed

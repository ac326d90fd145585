"""SendGrid mail-send rules beyond the spec, and the stored rows a valid request becomes."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from journeykit.sandbox.store import StoredMessage

EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
MAX_RECIPIENTS = 1000
HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


def error(message: str, field: str | None, anchor: str | None = None) -> dict[str, Any]:
    """One SendGrid error object."""
    return {"message": message, "field": field, "help": f"{HELP}#{anchor}" if anchor else None}


def check_mail(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors SendGrid reports for a mail send that the spec lets through."""
    errors: list[dict[str, Any]] = []
    personalizations = body.get("personalizations") or []
    if not personalizations:
        errors.append(
            error(
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
                "message.personalizations",
            )
        )
    recipients = 0
    for i, p in enumerate(personalizations):
        tos = p.get("to") or []
        if not tos:
            errors.append(
                error(
                    "The to array is required for all personalization objects, and must have at "
                    "least one email object with a valid email address.",
                    f"personalizations.{i}.to",
                    "message.personalizations.to",
                )
            )
        for kind in ("to", "cc", "bcc"):
            for j, addr in enumerate(p.get(kind) or []):
                recipients += 1
                if not EMAIL.match(str(addr.get("email", ""))):
                    errors.append(
                        error(
                            "Does not contain a valid address.",
                            f"personalizations.{i}.{kind}.{j}.email",
                            "message.personalizations",
                        )
                    )
        for key, value in (p.get("custom_args") or {}).items():
            if not isinstance(value, str):
                errors.append(
                    error(
                        f"Invalid type. Expected: string, given: {type(value).__name__}.",
                        f"personalizations.{i}.custom_args.{key}",
                        "message.custom_args",
                    )
                )
    if recipients > MAX_RECIPIENTS:
        errors.append(
            error(
                "The total number of recipients must be no more than 1000.",
                "personalizations",
                "message.personalizations",
            )
        )
    from_email = (body.get("from") or {}).get("email", "")
    if not EMAIL.match(str(from_email)):
        errors.append(
            error("The from email does not contain a valid address.", "from.email", "message.from")
        )
    has_template = bool(body.get("template_id"))
    content = body.get("content") or []
    if not content and not has_template:
        errors.append(
            error(
                "Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block. We typically suggest both "
                "text/plain and text/html blocks are included, but only one block is required.",
                "content",
                "message.content",
            )
        )
    types = [c.get("type") for c in content]
    if "text/plain" in types and types.index("text/plain") != 0:
        errors.append(
            error(
                "If present, text/plain must be first, followed by text/html, followed by any "
                "other content.",
                "content",
                "message.content",
            )
        )
    every_has_subject = bool(personalizations) and all(p.get("subject") for p in personalizations)
    if not has_template and not body.get("subject") and not every_has_subject:
        errors.append(
            error(
                "The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject "
                "defined.",
                "subject",
                "message.subject",
            )
        )
    categories = body.get("categories") or []
    if len(categories) > 10 or len(set(categories)) != len(categories):
        errors.append(
            error(
                "The categories must be unique, and there may be no more than 10.",
                "categories",
                "message.categories",
            )
        )
    return errors


def _substitute(text: str, subs: dict[str, str]) -> str:
    for tag, value in subs.items():
        text = text.replace(tag, str(value))
    return text


_SLOT = "journeykit-sandbox: one personalization goes here"


def _own_requests(body: dict[str, Any], personalizations: list[Any], raw: str) -> list[str]:
    """Per personalization, ``json.dumps`` of the request with only that personalization.

    The request around the personalization is encoded once, with a placeholder in its
    place, and each personalization spliced in (the content, HTML included, is most of a
    request: encoding it again per recipient was most of the work)."""
    if len(personalizations) == 1:
        return [raw]
    marker = json.dumps(_SLOT)
    whole = json.dumps({**body, "personalizations": [_SLOT]})
    if whole.count(marker) != 1:  # the request itself holds the placeholder: the long way
        return [json.dumps({**body, "personalizations": [p]}) for p in personalizations]
    before, _, after = whole.partition(marker)
    return [before + json.dumps(p) + after for p in personalizations]


def to_rows(
    body: dict[str, Any], message_id: str, received_at: datetime, raw: str
) -> list[StoredMessage]:
    """One stored message per ``to`` recipient of each personalization (``raw``: the request
    with only that personalization, when it has several)."""
    content = {c.get("type"): c.get("value", "") for c in body.get("content") or []}
    top_args = body.get("custom_args") if isinstance(body.get("custom_args"), dict) else {}
    rows: list[StoredMessage] = []
    personalizations = body.get("personalizations") or []
    own_requests = _own_requests(body, personalizations, raw)
    for p, own in zip(personalizations, own_requests, strict=True):
        subs = p.get("substitutions") or {}
        sender = p.get("from") or body.get("from") or {}
        for addr in p.get("to") or []:
            rows.append(
                StoredMessage(
                    id=f"{message_id}.filter0001.{len(rows)}",
                    request_id=message_id,
                    provider="sendgrid",
                    to=addr["email"],
                    to_name=addr.get("name", ""),
                    from_=sender.get("email", ""),
                    subject=_substitute(p.get("subject") or body.get("subject", ""), subs),
                    html=_substitute(content.get("text/html", ""), subs),
                    text=_substitute(content.get("text/plain", ""), subs),
                    custom_args={**(top_args or {}), **(p.get("custom_args") or {})},
                    headers={**(body.get("headers") or {}), **(p.get("headers") or {})},
                    categories=list(body.get("categories") or []),
                    received_at=received_at,
                    raw=own,
                )
            )
    return rows

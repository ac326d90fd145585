"""Email through SendGrid's v3 Mail Send API, with the official ``sendgrid`` SDK.

Each message is one personalization carrying ``custom_args.journeykit_key`` (SendGrid echoes
custom args on every event, which is how events find their outbox row). ``send_many`` puts up
to 1,000 messages from one template into one request, what differs between them going as
per-personalization substitutions (:mod:`journeykit.delivery.providers.email_batching`).
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
import urllib.error
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from journeykit.delivery.providers.base import EmailMessage, SendResult
from journeykit.delivery.providers.email_batching import SharedRequest, plan_requests

if TYPE_CHECKING:
    from journeykit.foundation.settings import Settings

MAX_PERSONALIZATIONS = 1000
_BEARER = re.compile(r"Bearer\s+[^'\"\s,}]+")


class _RedactApiKey(logging.Filter):
    """The SendGrid SDK logs every request's headers at DEBUG, API key included: redact it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Bearer" in message:
            record.msg, record.args = _BEARER.sub("Bearer [redacted]", message), None
        return True


logging.getLogger("python_http_client.client").addFilter(_RedactApiKey())


class SendGridEmailSender:
    """An ``EmailSender`` that posts to ``{base_url}/v3/mail/send`` and never raises for
    provider errors: every outcome comes back as a ``SendResult``."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        from_email: str,
        from_name: str = "",
        timeout_s: float = 10.0,
    ) -> None:
        self.from_email = from_email
        self.from_name = from_name
        self.timeout_s = timeout_s
        self._sg = SendGridAPIClient(api_key, host=base_url.rstrip("/"))
        self._sg.client.timeout = timeout_s

    @classmethod
    def from_settings(cls, settings: Settings) -> SendGridEmailSender:
        """A sender configured from ``settings.providers.sendgrid`` and ``.sending``."""
        return cls(
            settings.providers.sendgrid.api_key.get_secret_value(),
            settings.providers.sendgrid.base_url,
            from_email=settings.sending.email_from,
            from_name=settings.store.name,
            timeout_s=settings.providers.timeout_seconds,
        )

    def send(self, message: EmailMessage) -> SendResult:
        """Send one email (one personalization)."""
        return self._post(self.request_body([message]))[0]

    def send_many(
        self,
        messages: Sequence[EmailMessage],
        *,
        before_request: Callable[[], None] | None = None,
    ) -> list[SendResult]:
        """Send many emails in as few requests as their content allows: up to 1,000
        personalizations each, what differs between them sent as substitutions
        (:mod:`journeykit.delivery.providers.email_batching`). Results follow the input order; the
        messages of one request share its outcome and X-Message-Id. ``before_request`` runs
        before each request (the rate limiter's hook)."""
        results: list[SendResult | None] = [None] * len(messages)
        for shared in plan_requests(messages, MAX_PERSONALIZATIONS):
            for i, result in self._send_shared(messages, shared, before_request).items():
                results[i] = result
        return [r for r in results if r is not None]

    def _send_shared(
        self,
        messages: Sequence[EmailMessage],
        shared: SharedRequest,
        before_request: Callable[[], None] | None,
    ) -> dict[int, SendResult]:
        """One shared request. A 400 that names personalizations (say, one bad address among
        1,000) fails those alone and sends the rest again: a 400 sent nothing."""
        outcome: dict[int, SendResult] = {}
        indexes, substitutions = list(shared.indexes), list(shared.substitutions)
        while indexes:
            if before_request is not None:
                before_request()
            body = self.request_body(
                [messages[i] for i in indexes],
                content=(shared.subject, shared.html, shared.text),
                substitutions=substitutions,
            )
            result, fields = self._post(body)
            bad = _bad_personalizations(result, fields, len(indexes))
            if not bad or len(bad) == len(indexes):
                outcome.update((i, result) for i in indexes)
                break
            for n in bad:
                outcome[indexes[n]] = result
            keep = [n for n in range(len(indexes)) if n not in bad]
            indexes = [indexes[n] for n in keep]
            substitutions = [substitutions[n] for n in keep]
        return outcome

    def request_body(
        self,
        messages: Sequence[EmailMessage],
        *,
        content: tuple[str, str, str] | None = None,
        substitutions: Sequence[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        """The mail-send JSON: ``content`` (subject, html, text; default: the first
        message's) shared by every personalization, with its ``substitutions``."""
        first = messages[0]
        subject, html, text = content or (first.subject, first.html, first.text)
        sender: dict[str, str] = {"email": self.from_email}
        if self.from_name:
            sender["name"] = self.from_name
        subs = substitutions or [{}] * len(messages)
        body: dict[str, Any] = {
            "personalizations": [
                _personalization(m, s) for m, s in zip(messages, subs, strict=True)
            ],
            "from": sender,
            "subject": subject,
            "content": [
                c
                for c in (
                    {"type": "text/plain", "value": text},
                    {"type": "text/html", "value": html},
                )
                if c["value"]
            ],
        }
        if first.categories:
            body["categories"] = list(first.categories)
        return body

    def _post(self, body: dict[str, Any]) -> tuple[SendResult, list[str]]:
        """The outcome, and the fields a 4xx answer's errors name."""
        try:
            response = self._sg.send(body)
        except HTTPError as exc:
            return _from_http_error(exc), _error_fields(exc.body)
        except urllib.error.URLError as exc:  # could not connect or send: surely not sent
            return SendResult("retry", error=f"connection failed: {exc.reason}"), []
        except (TimeoutError, http.client.HTTPException, ConnectionError) as exc:
            # The request went out; the answer did not come back.
            return SendResult("ambiguous", error=f"no answer: {exc!r}"), []
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        return SendResult("sent", provider_id=message_id), []


def _personalization(m: EmailMessage, substitutions: dict[str, str]) -> dict[str, Any]:
    to: dict[str, str] = {"email": m.to}
    if m.to_name:
        to["name"] = m.to_name
    p: dict[str, Any] = {"to": [to], "custom_args": {"journeykit_key": m.key}}
    if m.headers:
        p["headers"] = dict(m.headers)
    if substitutions:
        p["substitutions"] = substitutions
    return p


_PERSONALIZATION_FIELD = re.compile(r"personalizations\.(\d+)\.")


def _bad_personalizations(result: SendResult, fields: list[str], count: int) -> set[int]:
    """The personalizations a 400's error ``fields`` all point at (empty if any error is
    about the request as a whole)."""
    if result.outcome != "permanent" or result.error_code != "400" or not fields:
        return set()
    found = [_PERSONALIZATION_FIELD.match(f) for f in fields]
    if not all(found):
        return set()
    return {int(m[1]) for m in found if m and int(m[1]) < count}


def _error_text(body: Any) -> str:
    try:
        data = json.loads(body)
        return "; ".join(
            f"{e.get('field') or 'request'}: {e.get('message')}" for e in data.get("errors", [])
        )
    except (ValueError, TypeError, AttributeError):
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


def _error_fields(body: Any) -> list[str]:
    try:
        return [str(e.get("field") or "") for e in json.loads(body).get("errors", [])]
    except (ValueError, TypeError, AttributeError):
        return []


def _from_http_error(exc: HTTPError) -> SendResult:
    status = int(exc.status_code)
    text = _error_text(exc.body) or f"HTTP {status}"
    if status == 429:
        headers = exc.headers
        retry_after: float | None = None
        if headers is not None and headers.get("Retry-After"):
            retry_after = float(headers["Retry-After"])
        elif headers is not None and headers.get("X-RateLimit-Reset"):
            retry_after = max(0.0, float(headers["X-RateLimit-Reset"]) - time.time())
        return SendResult("retry", error_code="429", error=text, retry_after_s=retry_after)
    if status >= 500:
        return SendResult("retry", error_code=str(status), error=text)
    return SendResult("permanent", error_code=str(status), error=text)

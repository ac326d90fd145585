"""Email through SendGrid's v3 Mail Send API, with the official ``sendgrid`` SDK.

Each message is one personalization carrying ``custom_args.journeykit_key`` (SendGrid echoes
custom args on every event, which is how events find their outbox row). ``send_many`` puts up
to 1,000 messages with identical content into one request, one personalization each.
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

from journeykit.channels.provider import EmailMessage, SendResult

if TYPE_CHECKING:
    from journeykit.settings import Settings

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
        """A sender configured from ``JOURNEYKIT_SENDGRID_*`` / ``JOURNEYKIT_EMAIL_*``."""
        return cls(
            settings.sendgrid_api_key.get_secret_value(),
            settings.sendgrid_base_url,
            from_email=settings.email_from,
            from_name=settings.email_from_name,
            timeout_s=settings.provider_timeout_s,
        )

    def send(self, message: EmailMessage) -> SendResult:
        """Send one email (one personalization)."""
        return self._post(self.request_body([message]))

    def send_many(
        self,
        messages: Sequence[EmailMessage],
        *,
        before_request: Callable[[], None] | None = None,
    ) -> list[SendResult]:
        """Send many emails, batching those with identical subject, HTML, text and categories
        into requests of up to 1,000 personalizations. Results follow the input order; all
        messages of one request share its outcome and X-Message-Id. ``before_request`` runs
        before each request (the rate limiter's hook)."""
        results: list[SendResult | None] = [None] * len(messages)
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, m in enumerate(messages):
            groups.setdefault((m.subject, m.html, m.text, m.categories), []).append(i)
        for indexes in groups.values():
            for start in range(0, len(indexes), MAX_PERSONALIZATIONS):
                chunk = indexes[start : start + MAX_PERSONALIZATIONS]
                if before_request is not None:
                    before_request()
                result = self._post(self.request_body([messages[i] for i in chunk]))
                for i in chunk:
                    results[i] = result
        return [r for r in results if r is not None]

    def request_body(self, messages: Sequence[EmailMessage]) -> dict[str, Any]:
        """The mail-send JSON for messages sharing the first one's content."""
        first = messages[0]
        sender: dict[str, str] = {"email": self.from_email}
        if self.from_name:
            sender["name"] = self.from_name
        body: dict[str, Any] = {
            "personalizations": [_personalization(m) for m in messages],
            "from": sender,
            "subject": first.subject,
            "content": [
                c
                for c in (
                    {"type": "text/plain", "value": first.text},
                    {"type": "text/html", "value": first.html},
                )
                if c["value"]
            ],
        }
        if first.categories:
            body["categories"] = list(first.categories)
        return body

    def _post(self, body: dict[str, Any]) -> SendResult:
        try:
            response = self._sg.send(body)
        except HTTPError as exc:
            return _from_http_error(exc)
        except urllib.error.URLError as exc:  # could not connect or send: surely not sent
            return SendResult("retry", error=f"connection failed: {exc.reason}")
        except (TimeoutError, http.client.HTTPException, ConnectionError) as exc:
            # The request went out; the answer did not come back.
            return SendResult("ambiguous", error=f"no answer: {exc!r}")
        message_id = response.headers.get("X-Message-Id") if response.headers else None
        return SendResult("sent", provider_id=message_id)


def _personalization(m: EmailMessage) -> dict[str, Any]:
    to: dict[str, str] = {"email": m.to}
    if m.to_name:
        to["name"] = m.to_name
    p: dict[str, Any] = {"to": [to], "custom_args": {"journeykit_key": m.key}}
    if m.headers:
        p["headers"] = dict(m.headers)
    return p


def _error_text(body: Any) -> str:
    try:
        data = json.loads(body)
        return "; ".join(
            f"{e.get('field') or 'request'}: {e.get('message')}" for e in data.get("errors", [])
        )
    except (ValueError, TypeError, AttributeError):
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


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

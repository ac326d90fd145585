"""Provider callbacks, sent from a background thread: Twilio status callbacks (signed with
``X-Twilio-Signature``) and SendGrid Event Webhook batches (signed with ECDSA P-256)."""

from __future__ import annotations

import base64
import heapq
import itertools
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass(frozen=True)
class Delivery:
    """One callback to POST: URL, headers, and either form fields or a raw JSON body."""

    url: str
    headers: dict[str, str]
    form: dict[str, str] | None = None
    content: bytes | None = None
    signed_events: bool = False  # a SendGrid batch: signed afresh at every attempt
    first_failed_at: float | None = None
    retries: int = 0


@dataclass
class DeliveryLog:
    """What the worker has POSTed so far (URL and answer status, or the error)."""

    entries: list[tuple[str, str]] = field(default_factory=list)


class CallbackWorker:
    """Queues callbacks and POSTs them in order from one daemon thread, never in a request.

    Like the providers, a callback the receiver does not take (a connection error or a 5xx)
    is tried again later, with growing pauses, for ``retry_for_s`` (SendGrid retries its
    Event Webhook for up to 24 hours), without holding up the callbacks behind it."""

    def __init__(
        self,
        auth_token: str,
        *,
        step_delay_s: float = 0.02,
        attempts: int = 3,
        retry_for_s: float = 3600.0,
        max_pause_s: float = 5.0,
    ) -> None:
        self.auth_token = auth_token
        self.step_delay_s = step_delay_s
        self.attempts = attempts
        self.retry_for_s = retry_for_s
        self.max_pause_s = max_pause_s
        self._later: list[tuple[float, int, Delivery]] = []
        self._order = itertools.count()
        self.log = DeliveryLog()
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    @property
    def sendgrid_public_key(self) -> str:
        """The verification key, base64 DER as SendGrid shows it under Mail Settings."""
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def start(self) -> None:
        """Start the delivery thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sandbox-callbacks", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Finish queued deliveries (up to ``timeout_s``) and stop the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout_s)
        self._thread = None

    def twilio_status(self, url: str, params: dict[str, str]) -> None:
        """Queue one signed Twilio status callback with these form fields."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
        self._queue.put(Delivery(url, headers, form=dict(params)))

    def sendgrid_events(self, url: str, events: list[dict[str, object]]) -> None:
        """Queue one signed SendGrid Event Webhook POST carrying these events."""
        body = json.dumps(events).encode()
        self._queue.put(Delivery(url, {}, content=body, signed_events=True))

    def _event_headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signature = self._key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: timestamp,
            "User-Agent": "SendGrid Event API",
        }

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while True:
                now = time.monotonic()
                if self._later and self._later[0][0] <= now:
                    self._deliver(client, heapq.heappop(self._later)[2])
                    continue
                wait = self._later[0][0] - now if self._later else None
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    continue
                if item is None:  # stopping: retries still pending die with the sandbox
                    return
                time.sleep(self.step_delay_s)
                self._deliver(client, item)

    def _deliver(self, client: httpx.Client, item: Delivery) -> None:
        for attempt in range(self.attempts):
            headers = item.headers
            if item.signed_events and item.content is not None:
                headers = self._event_headers(item.content)
            try:
                if item.form is not None:
                    resp = client.post(item.url, data=item.form, headers=headers)
                else:
                    resp = client.post(item.url, content=item.content, headers=headers)
            except httpx.HTTPError as exc:
                outcome = f"error: {exc!r}"
            else:
                outcome = str(resp.status_code)
                if resp.status_code < 500:
                    self.log.entries.append((item.url, outcome))
                    return
            time.sleep(0.1 * (attempt + 1))
        self.log.entries.append((item.url, outcome))
        self._retry_later(item, outcome)

    def _retry_later(self, item: Delivery, outcome: str) -> None:
        now = time.monotonic()
        first = item.first_failed_at if item.first_failed_at is not None else now
        if now - first >= self.retry_for_s:
            log.warning("sandbox callback to %s given up: %s", item.url, outcome)
            return
        if item.retries == 0:
            log.info("sandbox callback to %s failed (%s); will retry", item.url, outcome)
        pause = min(self.max_pause_s, 0.5 * 2**item.retries)
        later = replace(item, first_failed_at=first, retries=item.retries + 1)
        heapq.heappush(self._later, (now + pause, next(self._order), later))

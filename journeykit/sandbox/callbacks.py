"""Provider callbacks, sent from a background thread: Twilio status callbacks (signed with
``X-Twilio-Signature``) and SendGrid Event Webhook batches (signed with ECDSA P-256)."""

from __future__ import annotations

import base64
import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

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


@dataclass
class DeliveryLog:
    """What the worker has POSTed so far (URL and answer status, or the error)."""

    entries: list[tuple[str, str]] = field(default_factory=list)


class CallbackWorker:
    """Queues callbacks and POSTs them in order from one daemon thread, never in a request."""

    def __init__(self, auth_token: str, *, step_delay_s: float = 0.02, attempts: int = 3) -> None:
        self.auth_token = auth_token
        self.step_delay_s = step_delay_s
        self.attempts = attempts
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
        body = json.dumps(events)
        timestamp = str(int(time.time()))
        signature = self._key.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: base64.b64encode(signature).decode(),
            TIMESTAMP_HEADER: timestamp,
            "User-Agent": "SendGrid Event API",
        }
        self._queue.put(Delivery(url, headers, content=body.encode()))

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                time.sleep(self.step_delay_s)
                self._deliver(client, item)

    def _deliver(self, client: httpx.Client, item: Delivery) -> None:
        for attempt in range(self.attempts):
            try:
                if item.form is not None:
                    resp = client.post(item.url, data=item.form, headers=item.headers)
                else:
                    resp = client.post(item.url, content=item.content, headers=item.headers)
            except httpx.HTTPError as exc:
                outcome = f"error: {exc!r}"
            else:
                outcome = str(resp.status_code)
                if resp.status_code < 500:
                    self.log.entries.append((item.url, outcome))
                    return
            time.sleep(0.1 * (attempt + 1))
        log.warning("sandbox callback to %s failed: %s", item.url, outcome)
        self.log.entries.append((item.url, outcome))

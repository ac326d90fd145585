"""The sandbox retries callbacks the receiver did not take (a 5xx, or nothing listening), like
the providers do, signing each SendGrid attempt afresh; later callbacks are not held up."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from journeykit.sandbox.callbacks import SIGNATURE_HEADER, TIMESTAMP_HEADER, CallbackWorker


class FlakyReceiver:
    """Answers 503 to the first ``failures`` POSTs, then 200; records what it took."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.taken: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    receiver.taken.append((self.path, dict(self.headers.items()), body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def wait_until(predicate: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_refused_event_batch_is_retried_and_signed_again() -> None:
    receiver = FlakyReceiver(failures=4)  # more than the quick attempts
    worker = CallbackWorker("token", step_delay_s=0, attempts=2, max_pause_s=0.2)
    worker.start()
    try:
        worker.sendgrid_events(
            f"{receiver.url}/events", [{"event": "processed", "sg_event_id": "e1"}]
        )
        worker.twilio_status(
            f"{receiver.url}/status", {"MessageSid": "SM1", "MessageStatus": "sent"}
        )
        wait_until(lambda: len(receiver.taken) == 2)
    finally:
        worker.stop()
        receiver.httpd.shutdown()
    paths = [path for path, _, _ in receiver.taken]
    assert sorted(paths) == ["/events", "/status"]
    _, headers, body = next(t for t in receiver.taken if t[0] == "/events")
    assert json.loads(body)[0]["sg_event_id"] == "e1"
    key = serialization.load_der_public_key(base64.b64decode(worker.sendgrid_public_key))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    signed = headers[TIMESTAMP_HEADER].encode() + body
    key.verify(base64.b64decode(headers[SIGNATURE_HEADER]), signed, ec.ECDSA(hashes.SHA256()))


def test_retrying_gives_up_after_the_window() -> None:
    worker = CallbackWorker("t", step_delay_s=0, attempts=1, retry_for_s=0.3, max_pause_s=0.1)
    worker.start()
    try:
        worker.twilio_status("http://127.0.0.1:9/status", {"MessageSid": "SM2"})
        wait_until(lambda: not worker._later and len(worker.log.entries) >= 2)
    finally:
        worker.stop()
    assert all(outcome.startswith("error") for _, outcome in worker.log.entries)

"""Test helpers: pytest fixtures for a running sandbox, and a tiny server that records the
callbacks the sandbox POSTs.

In a conftest.py, or at the top of a test module (assignments keep ruff's F811 quiet)::

    from journeykit_rigs import fixtures as testing

    sandbox_server = testing.sandbox_server
    sandbox = testing.sandbox
    callback_receiver = testing.callback_receiver

``sandbox_server`` is one ``SandboxServer`` per module; ``sandbox`` is the same server with
its store cleared and its faults reset before each test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl

import pytest

from journeykit.sandbox.server import SandboxServer


@dataclass(frozen=True)
class ReceivedRequest:
    """One POST the receiver got: path, headers (original case) and raw body."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        """The body as form fields (blank values kept, as Twilio signs them)."""
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class CallbackReceiver:
    """A throwaway HTTP server on 127.0.0.1 that answers 200 and records each POST."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        ReceivedRequest(self.path, dict(self.headers.items()), body)
                    )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the receiver."""
        return f"http://127.0.0.1:{self.port}"

    def wait_for(
        self,
        count: int,
        where: Callable[[ReceivedRequest], bool] = lambda r: True,
        timeout_s: float = 5.0,
    ) -> list[ReceivedRequest]:
        """Wait until ``count`` matching requests arrived; return them (raises on timeout)."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._lock:
                found = [r for r in self.requests if where(r)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {len(found)} of {count} callbacks")
            time.sleep(0.01)

    def start(self) -> CallbackReceiver:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> CallbackReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    """One running sandbox for the whole test module (default sandbox credentials)."""
    with SandboxServer() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    """The module's sandbox, emptied and without faults, for one test."""
    sandbox_server.store.clear()
    sandbox_server.faults.reset()
    sandbox_server.set_sendgrid_event_url(None)
    if not sandbox_server.running:
        sandbox_server.start()
    return sandbox_server


@pytest.fixture
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A running ``CallbackReceiver`` for one test."""
    with CallbackReceiver() as receiver:
        yield receiver

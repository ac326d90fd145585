"""``SandboxServer``: the sandbox app served by uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from journeykit.sandbox.app import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SENDGRID_KEY,
    create_app,
)
from journeykit.sandbox.faults import FaultConfig, FaultInjector
from journeykit.sandbox.store import MessageStore

if TYPE_CHECKING:
    from journeykit.foundation.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class SandboxServer:
    """The provider sandbox on ``host:port`` (a free port unless given), in a daemon thread.

    Use as a context manager, or ``start()``/``stop()``; it can be stopped and started again
    on the same port (to simulate an outage). ``store`` and ``faults`` are the live objects.
    """

    def __init__(
        self,
        store: MessageStore | None = None,
        faults: FaultInjector | FaultConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        sendgrid_api_key: str = DEFAULT_SENDGRID_KEY,
        sendgrid_event_url: str | None = None,
        log_level: str = "warning",
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.store = store if store is not None else MessageStore()
        self.faults = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.sendgrid_api_key = sendgrid_api_key
        self.log_level = log_level
        self.app = create_app(
            self.store,
            self.faults,
            auth_token=auth_token,
            account_sid=account_sid,
            sendgrid_api_key=sendgrid_api_key,
            sendgrid_event_url=sendgrid_event_url,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> SandboxServer:
        """A sandbox that accepts the credentials in ``settings`` (keyword args override)."""
        options: dict[str, Any] = {
            "account_sid": settings.providers.twilio.account_sid,
            "auth_token": settings.providers.twilio.auth_token.get_secret_value(),
            "sendgrid_api_key": settings.providers.sendgrid.api_key.get_secret_value(),
        }
        return cls(**(options | kwargs))

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:51234`` (use it as both providers' base URL)."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def sendgrid_public_key(self) -> str:
        """The key that verifies this sandbox's Event Webhook signatures."""
        return str(self.app.state.sandbox.callbacks.sendgrid_public_key)

    def set_sendgrid_event_url(self, url: str | None) -> None:
        """Where Event Webhook POSTs go from now on (None: nowhere)."""
        self.app.state.sandbox.sendgrid_event_url = url

    def start(self, timeout_s: float = 10.0) -> SandboxServer:
        """Serve, returning once the port accepts connections."""
        if self.running:
            return self
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level=self.log_level,
            access_log=False,
            timeout_graceful_shutdown=1,
            lifespan="on",
            proxy_headers=False,  # nothing stands in front of it; a layer less per request
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"sandbox-{self.port}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout_s
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError(f"sandbox failed to start on {self.url}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"sandbox did not start on {self.url} in {timeout_s} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop serving (held-back answers are cut off after about a second)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._server = self._thread = None

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises KeyboardInterrupt here)."""
        while self.running:
            time.sleep(0.2)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

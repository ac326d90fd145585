"""The real web app in a background thread, serving the provider webhooks for a local run's
database (the demo, a chaos trial): the sandbox posts SendGrid events and Twilio status
callbacks here, as the providers would in production (a SendGrid event is what reconcile
trusts to know an email went out)."""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from sqlalchemy import Engine

from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import free_port
from journeykit.service.runtime_factory import build_runtime
from journeykit.web.app import create_app


class WebhookServer:
    """``create_app`` on a free port in a daemon thread, on the trial's database; it keeps
    wall-clock time (webhook timestamps are real)."""

    def __init__(self, engine: Engine, database_url: str, sendgrid_public_key: str) -> None:
        self.port = free_port()
        self.settings = Settings().with_changes(
            {
                "database.url": database_url,
                "web.public_base_url": self.url,
                "providers.sendgrid.webhook_public_key": sendgrid_public_key,
                "web.event_delivery": "inline",
            }
        )
        self.runtime = build_runtime(self.settings, engine=engine, owner="chaos-web")
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sendgrid_events_url(self) -> str:
        return f"{self.url}/webhooks/sendgrid/events"

    def start(self, timeout_s: float = 20.0) -> WebhookServer:

        app = create_app(self.settings, self.runtime)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

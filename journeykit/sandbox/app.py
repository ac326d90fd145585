"""The sandbox FastAPI app: Twilio and SendGrid look-alikes, the inbox, and ``/_sandbox``
controls (faults, the SendGrid verification key)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.types import Receive, Scope, Send

from journeykit.sandbox import inbox, sendgrid_api, twilio_api
from journeykit.sandbox.callbacks import CallbackWorker
from journeykit.sandbox.fast_path import SendFastPath
from journeykit.sandbox.faults import FaultConfig, FaultInjector
from journeykit.sandbox.shared import SandboxContext, get_context
from journeykit.sandbox.store import MessageStore
from journeykit.sandbox.validation import warm_specs

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "sandbox-token"
DEFAULT_SENDGRID_KEY = "SG.sandbox-key"


class SandboxApp(FastAPI):
    """The sandbox's FastAPI app, with Twilio's create-message POST answered first by
    :class:`SendFastPath` (set by :func:`create_app`)."""

    fast_path: SendFastPath | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None and await self.fast_path.answered(scope, receive, send):
            return
        await super().__call__(scope, receive, send)


def create_app(
    store: MessageStore | None = None,
    faults: FaultInjector | FaultConfig | None = None,
    *,
    auth_token: str = DEFAULT_AUTH_TOKEN,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    sendgrid_api_key: str = DEFAULT_SENDGRID_KEY,
    sendgrid_event_url: str | None = None,
    callbacks: CallbackWorker | None = None,
) -> SandboxApp:
    """Build the sandbox app around a store and fault settings.

    ``sendgrid_event_url``, when set, receives signed Event Webhook POSTs for every accepted
    mail; Twilio status callbacks go wherever each request's ``StatusCallback`` says.
    """
    injector = faults if isinstance(faults, FaultInjector) else FaultInjector(faults)
    ctx = SandboxContext(
        store=store if store is not None else MessageStore(),
        faults=injector,
        account_sid=account_sid,
        auth_token=auth_token,
        sendgrid_api_key=sendgrid_api_key,
        callbacks=callbacks or CallbackWorker(auth_token),
        sendgrid_event_url=sendgrid_event_url,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm_specs()
        ctx.callbacks.start()
        yield
        await asyncio.to_thread(ctx.callbacks.stop)

    app = SandboxApp(
        title="Journeykit provider sandbox",
        lifespan=lifespan,
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
        # No OpenTelemetry for a local stand-in: FastAPI would ask, on every request, whether
        # a tracer, meter or logger provider is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.sandbox = ctx
    app.include_router(twilio_api.router)
    app.include_router(sendgrid_api.router)
    app.include_router(inbox.router)
    app.fast_path = SendFastPath(ctx)

    @app.get("/_sandbox/faults")
    def get_faults(c: SandboxContext = Depends(get_context)) -> dict[str, Any]:
        """The fault settings in force."""
        return c.faults.config.model_dump()

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request, c: SandboxContext = Depends(get_context)) -> Any:
        """Change some fault settings (JSON object of ``FaultConfig`` fields)."""
        changes = await request.json()
        if not isinstance(changes, dict):
            return JSONResponse({"error": "expected a JSON object"}, status_code=400)
        try:
            return c.faults.update(**changes).model_dump()
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    @app.delete("/_sandbox/faults")
    def reset_faults(c: SandboxContext = Depends(get_context)) -> dict[str, Any]:
        """No faults, no latency."""
        c.faults.reset()
        return c.faults.config.model_dump()

    @app.get("/_sandbox/sendgrid-public-key", response_class=PlainTextResponse)
    def sendgrid_public_key(c: SandboxContext = Depends(get_context)) -> str:
        """The Event Webhook verification key (base64 DER, as SendGrid shows it)."""
        return c.callbacks.sendgrid_public_key

    @app.get("/_sandbox/health")
    def health() -> dict[str, str]:
        """Liveness check."""
        return {"status": "ok"}

    return app

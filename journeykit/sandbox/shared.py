"""What every sandbox route shares: the store, faults, credentials and callback worker."""

from __future__ import annotations

import asyncio
import base64
import secrets
import string
from dataclasses import dataclass
from functools import cached_property

from fastapi import Request

from journeykit.sandbox.callbacks import CallbackWorker
from journeykit.sandbox.faults import Fault, FaultInjector
from journeykit.sandbox.store import MessageStore

_ALPHABET = string.ascii_letters + string.digits + "-_"


@dataclass
class SandboxContext:
    """The live state of one sandbox app (kept on ``app.state.sandbox``)."""

    store: MessageStore
    faults: FaultInjector
    account_sid: str
    auth_token: str
    sendgrid_api_key: str
    callbacks: CallbackWorker
    sendgrid_event_url: str | None = None

    @cached_property
    def twilio_authorization(self) -> str:
        """The ``Authorization`` header of a Twilio client with these credentials."""
        pair = f"{self.account_sid}:{self.auth_token}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    async def before_send(self, provider: str) -> Fault:
        """Wait the configured latency, and for a share of sends the slow-answer delay
        (without blocking other requests), then draw a fault."""
        latency = self.faults.delay_s(provider)
        if latency > 0:
            await asyncio.sleep(latency)
        return self.faults.draw(provider)

    async def hold_answer(self) -> None:
        """Sleep past the client's timeout (the ``timeout`` fault)."""
        await asyncio.sleep(self.faults.timeout_delay_s)


async def get_context(request: Request) -> SandboxContext:
    """The sandbox context of the app serving ``request`` (async: FastAPI runs a plain
    ``def`` dependency in its thread pool, a thread hop per request)."""
    ctx: SandboxContext = request.app.state.sandbox
    return ctx


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def new_message_id() -> str:
    """A SendGrid-style X-Message-Id: 22 URL-safe characters."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))

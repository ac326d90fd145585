"""The sandbox's hottest request, Twilio's create-message POST (one per SMS), handed
straight to its handler.

Through FastAPI's router each such request cost about as much CPU again as the handler
itself (route matching, dependency solving, telemetry, the exception and exit-stack layers);
in a fan-out benchmark the sandbox shares the machine with the code it measures. This ASGI
middleware answers that one path and method with the same handler
(:func:`journeykit.sandbox.twilio_api.answer_create`) and passes everything else on.
It sits inside Starlette's ``ServerErrorMiddleware``, so an unexpected error is still a 500.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from journeykit.sandbox.shared import SandboxContext
from journeykit.sandbox.twilio_api import answer_create

# The route's path (``/2010-04-01/Accounts/{account_sid}/Messages.json``), as Starlette
# matches a path parameter: one segment, anything but a slash.
CREATE_MESSAGE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")


class SendFastPath:
    """ASGI middleware: ``POST .../Messages.json`` to :func:`answer_create`, the rest on."""

    def __init__(self, app: ASGIApp, context: SandboxContext) -> None:
        self.app = app
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            found = CREATE_MESSAGE.fullmatch(scope["path"])
            if found is not None:
                request = Request(scope, receive)
                response = await answer_create(self.context, found[1], request)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

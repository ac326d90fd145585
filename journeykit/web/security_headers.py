"""Headers every response carries: pages (HTML) get the Content-Security-Policy of
``settings.web.content_security_policy`` (no inline scripts, no foreign scripts, no framing),
and every response says ``nosniff`` and sends no referrer off the site. The interactive API
docs (``/docs``, ``/redoc``) load Swagger from a CDN and are left without the policy; they are
off in production unless ``web.api_docs`` turns them on."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = ("/docs", "/redoc")
# on every response (a JSON answer needs no Content-Security-Policy: it is no page)
EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, content_security_policy: str) -> None:
        self.app = app
        self.policy = content_security_policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_docs = str(scope.get("path", "")).startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in EVERY_RESPONSE.items():
                    headers.setdefault(name, value)
                html = headers.get("content-type", "").startswith("text/html")
                if html and not is_docs and self.policy:
                    headers.setdefault("Content-Security-Policy", self.policy)
            await send(message)

        await self.app(scope, receive, send_with_headers)

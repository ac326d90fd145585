"""Caps on request bodies, before any route parses one: a larger Content-Length is refused
with 413 before the body is read, a streamed body is cut off (413) once it passes the cap,
and a JSON body nested deeper than ``max_depth`` (``[`` x 100,000 would exhaust Python's
recursion in ``json.loads``) is refused with 400 naming the body, before any signature or
route code runs."""

from __future__ import annotations

import re
from itertools import accumulate

from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from journeykit.web.request_body import replaying

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_FORM_TYPES = (b"multipart/form-data", b"application/x-www-form-urlencoded")
_OPEN, _CLOSE = b"[{", b"]}"
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[{]}")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body`` (brackets inside strings do not
    count). Fast when there are few brackets; linear in the brackets otherwise."""
    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    steps = (1 if b in _OPEN else -1 for b in brackets)
    return max(0, *accumulate(steps))


def deeper_than(body: bytes, max_depth: int) -> bool:
    """``json_depth(body) > max_depth``, at once when there are not that many opening
    brackets in all (a store event's body has a handful)."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    return json_depth(body) > max_depth


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, max_depth: int = 32) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length", b"").decode("latin-1")
        if length and (not (length.isascii() and length.isdigit()) or int(length) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").lower()
        if not content_type.startswith(_FORM_TYPES) and deeper_than(body, self.max_depth):
            await self._too_deep(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            f"request body too large (at most {self.max_bytes} bytes)", status_code=413
        )
        await response(scope, receive, send)

    async def _too_deep(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = [
            {
                "loc": ["body"],
                "msg": f"JSON nested deeper than {self.max_depth} levels",
                "type": "json_too_deep",
            }
        ]
        await JSONResponse({"detail": detail}, status_code=400)(scope, receive, send)

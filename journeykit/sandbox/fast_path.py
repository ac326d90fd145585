"""The sandbox's hottest request, Twilio's create-message POST (one per SMS), answered
before the rest of the app sees it.

Through FastAPI each such request cost about as much CPU again as the handler itself (route
matching, dependency solving, the middleware layers, Starlette's request and response
objects); in a fan-out benchmark the sandbox shares the machine with the code it measures.
:class:`SendFastPath` is the app's first ASGI step: it answers that one path and method with
the same handler as the route (:func:`journeykit.sandbox.twilio_api.answer_create`), reading
the body and writing the JSON answer itself, and passes everything else on. As Starlette's
``ServerErrorMiddleware`` would, it answers an unexpected error with a plain 500 and raises
it on (for the server to log).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import Receive, Scope, Send

from journeykit.sandbox.shared import SandboxContext
from journeykit.sandbox.twilio_api import Answer, answer_create

# The route's path (``/2010-04-01/Accounts/{account_sid}/Messages.json``), as Starlette
# matches a path parameter: one segment, anything but a slash.
CREATE_MESSAGE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")
CLIENT_GONE = Answer(499, {})  # the client gave up before sending its body: nothing happened
SERVER_ERROR = b"Internal Server Error"


def json_bytes(content: Any) -> bytes:
    """JSON as Starlette's ``JSONResponse`` renders it."""
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


async def _body(receive: Receive) -> bytes | None:
    """The request body, or None if the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes, content_type: bytes, extra: Any) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    headers += [(b"content-length", str(len(body)).encode()), (b"content-type", content_type)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SendFastPath:
    """The create-message POST, answered straight from ASGI (see the module's docstring)."""

    def __init__(self, context: SandboxContext) -> None:
        self.context = context

    async def answered(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request if it is a create-message POST; False: not one, not answered."""
        if scope["type"] != "http" or scope["method"] != "POST":
            return False
        found = CREATE_MESSAGE.fullmatch(scope["path"])
        if found is None:
            return False
        try:
            raw = await _body(receive)
            if raw is None:
                answer = CLIENT_GONE
            else:
                authorization = ""
                for key, value in scope["headers"]:
                    if key.lower() == b"authorization":
                        authorization = value.decode("latin-1")
                        break
                answer = await answer_create(self.context, found[1], authorization, raw)
            body = json_bytes(answer.content)
        except Exception:
            await _send(send, 500, SERVER_ERROR, b"text/plain; charset=utf-8", {})
            raise
        await _send(send, answer.status, body, b"application/json", answer.headers or {})
        return True
